"""Paths under ``--output-dir``.

Layout of the output folder (harnessgym's own files; the trial workspaces hold their own ``.harnessgym``)::

    <output-dir>/
      compare_plan.json                    what is being compared (a resumed comparison must match it)
      compare_report.json                  CompareReport, written at the end (also when interrupted)
      [<task>/][<runner>/]<arm>/trial_<i>/{trial.json, workspace/, home/, post.*.txt}
      [<task>/][<runner>/]<arm>/trial_<i>.infra-<k>/   an earlier try that failed for infrastructure reasons

``<task>/`` only for a suite, ``<runner>/`` only with several runners; ``<arm>`` is ``plain``, ``harnessed`` or
``minus-<artifact>`` (a leave-one-out arm).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harnessgym.compare.models import TrialKey

__all__ = ["OutputLayout", "arm_dir"]


def arm_dir(arm: str) -> str:
    """The folder of an arm: its name, or ``minus-<readable part>-<hash>`` for ``minus:<artifact id>``."""
    if not arm.startswith("minus:"):
        return arm
    artifact = arm.removeprefix("minus:")
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", artifact.rsplit("/", 1)[-1])[:40].strip("._") or "artifact"
    return f"minus-{readable}-{hashlib.sha256(artifact.encode()).hexdigest()[:6]}"


@dataclass(frozen=True)
class OutputLayout:
    """Paths under ``--output-dir``."""

    root: Path

    @property
    def report(self) -> Path:
        return self.root / "compare_report.json"

    @property
    def plan(self) -> Path:
        return self.root / "compare_plan.json"

    def group_dir(self, group: str) -> Path:
        return self.root / group

    def trial_dir(self, group: str, index: int) -> Path:
        return self.group_dir(group) / f"trial_{index}"

    def trial_record(self, group: str, index: int) -> Path:
        return self.trial_dir(group, index) / "trial.json"

    def workspace(self, group: str, index: int) -> Path:
        return self.trial_dir(group, index) / "workspace"

    def trial_dir_of(self, key: TrialKey) -> Path:
        """The folder of any trial (the same as :meth:`trial_dir` for a one-task, one-runner comparison)."""
        parts = [p for p in (key.task, key.runner) if p]
        return self.root.joinpath(*parts, arm_dir(key.arm_name), f"trial_{key.index}")
