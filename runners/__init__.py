"""Agent CLI adapters behind one contract (:class:`runners._base.Runner`), chosen by name.

``fake`` drives :mod:`runners.fake_agent`, a scripted stand-in spawned exactly like a real CLI; ``claude``
and ``codex`` (alias ``exec``) drive the real CLIs. Runner modules are imported only when chosen.
"""

from __future__ import annotations

import importlib
import typing

from runners._base import AgentAction, McpLaunch, Phase, PhaseOutcome, PhaseRequest, PhaseStatus, Runner
from runners._options import RunnerName, RunnerOptions

__all__ = [
    "RUNNERS",
    "AgentAction",
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
}


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
