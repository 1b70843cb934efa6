"""Agent CLI adapters behind one contract (:class:`runners._base.Runner`), chosen by name.

``fake`` drives :mod:`runners.fake_agent`, a scripted stand-in spawned exactly like a real CLI; ``claude``
and ``codex`` (aliases ``exec``, and ``tui-goal`` for goal mode) drive the real CLIs. Runner modules are
imported only when chosen.
"""

from __future__ import annotations

import importlib
import typing
from typing import TYPE_CHECKING, Any

from runners._names import RunnerName

if TYPE_CHECKING:
    from runners._base import (
        AgentAction,
        McpDelivery,
        McpLaunch,
        Phase,
        PhaseOutcome,
        PhaseRequest,
        PhaseStatus,
        Runner,
    )
    from runners._goal import DEFAULT_GOAL_TOKEN_BUDGET, GoalOutcome, GoalReport, GoalSpec
    from runners._options import RunnerOptions

_LAZY = {
    **dict.fromkeys(
        ["AgentAction", "McpDelivery", "McpLaunch", "Phase", "PhaseOutcome", "PhaseRequest", "PhaseStatus", "Runner"],
        "runners._base",
    ),
    "RunnerOptions": "runners._options",
    **dict.fromkeys(["DEFAULT_GOAL_TOKEN_BUDGET", "GoalOutcome", "GoalReport", "GoalSpec"], "runners._goal"),
}
"""Names loaded on first use: ``python -m runners.fake_agent`` imports this package and must not pay for pydantic."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runners' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_GOAL_TOKEN_BUDGET",
    "GOAL_RUNNERS",
    "RUNNERS",
    "AgentAction",
    "GoalOutcome",
    "GoalReport",
    "GoalSpec",
    "McpDelivery",
    "McpLaunch",
    "Phase",
    "PhaseOutcome",
    "PhaseRequest",
    "PhaseStatus",
    "Runner",
    "RunnerName",
    "RunnerOptions",
    "UnknownRunner",
    "get_runner",
]

RUNNERS: dict[RunnerName, tuple[str, str]] = {
    "fake": ("runners._fake", "FakeRunner"),
    "claude": ("runners._claude", "ClaudeRunner"),
    "codex": ("runners._codex", "CodexRunner"),
    "exec": ("runners._codex", "CodexRunner"),
    "tui-goal": ("runners._codex", "CodexRunner"),
}
"""``tui-goal`` is HarnessGym 0.1.1's name for Codex in goal mode: Codex, with the attempt always a goal."""

GOAL_RUNNERS: frozenset[str] = frozenset({"auto", "fake", "claude", "codex", "exec", "tui-goal"})
"""Runners whose attempts can run in goal mode (their class sets ``supports_goal``; ``auto`` picks one of them);
kept here so a config can check ``--goal`` without importing the runner."""


if tuple(RUNNERS) != typing.get_args(RunnerName):  # the registry and the declared names must not drift apart
    raise ImportError(f"runners.RUNNERS {tuple(RUNNERS)} differs from RunnerName {typing.get_args(RunnerName)}")


class UnknownRunner(LookupError):
    """No runner has this name, or its module cannot be loaded."""

    def __init__(self, name: str, reason: str = "") -> None:
        self.name = name
        known = ", ".join(RUNNERS)
        super().__init__(reason or f"unknown runner {name!r}; choose one of: {known}")


def get_runner(name: str, options: RunnerOptions) -> Runner:
    """The runner called ``name``, built with ``options``."""
    try:
        module_name, class_name = RUNNERS[name]  # type: ignore[index]  # any str may be asked for
    except KeyError:
        raise UnknownRunner(name) from None
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        raise UnknownRunner(name, f"runner {name!r} is not available ({exc})") from exc
    runner: Runner = cls(options)
    return runner
