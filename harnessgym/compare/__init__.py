"""``harnessgym compare``: replay plain against harnessed sessions from a clean template and say, with honest
statistics, whether the harness helped.

Modules: :mod:`~harnessgym.compare.models` (the records and the output layout), :mod:`~harnessgym.compare.trials`
(running trials), :mod:`~harnessgym.compare.stats` (the statistics, pure), :mod:`~harnessgym.compare.analysis`
(summaries, tests and the verdict, pure) and :mod:`~harnessgym.compare.render` (the printed table).
A comparison never decides "solved" on the agent's word: only harnessgym's own verify run counts.
"""

from __future__ import annotations

import sys
import types

import anyio

from harnessgym.compare.models import (
    CompareConfig,
    CompareReport,
    CompareVerdict,
    Comparison,
    Distribution,
    GroupSummary,
    OutputLayout,
    ShiftTest,
    TrialKey,
    TrialRecord,
)
from harnessgym.compare.trials import TrialHandler, check_compare, compare_async, plan_order
from harnessgym.events import EventHandler

__all__ = [
    "CompareConfig",
    "CompareReport",
    "CompareVerdict",
    "Comparison",
    "Distribution",
    "GroupSummary",
    "OutputLayout",
    "ShiftTest",
    "TrialHandler",
    "TrialKey",
    "TrialRecord",
    "check_compare",
    "compare_async",
    "plan_order",
    "run_compare",
]


def run_compare(
    config: CompareConfig, on_trial: TrialHandler | None = None, on_event: EventHandler | None = None
) -> CompareReport:
    """Blocking twin of :func:`compare_async`."""
    return anyio.run(compare_async, config, on_trial, on_event)


class _CallableModule(types.ModuleType):
    """``harnessgym.compare`` names both this package and the library's blocking :func:`run_compare` (exported
    as ``harnessgym.compare``). Importing a package binds its name to the package, so whichever of the two the
    name holds, calling it runs a comparison."""

    def __call__(
        self, config: CompareConfig, on_trial: TrialHandler | None = None, on_event: EventHandler | None = None
    ) -> CompareReport:
        return run_compare(config, on_trial, on_event)


sys.modules[__name__].__class__ = _CallableModule
