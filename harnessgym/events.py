"""Progress events a run emits (the CLI shows them, the control server relays them) and run listings."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from harnessgym.records import Evidence, IterationBrief, utcnow

log = logging.getLogger(__name__)

__all__ = ["Emitter", "EventHandler", "EventKind", "RunEvent", "RunInfo", "RunInfoStatus"]

EventKind = Literal[
    "run_started",
    "run_resumed",
    "run_continued",
    "iteration_started",
    "phase_started",
    "phase_finished",
    "agent_action",
    "mcp_call",
    "artifact",
    "verdict",
    "warning",
    "iteration_finished",
    "run_finished",
    "run_interrupted",
]


class RunEvent(BaseModel):
    """One progress event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EventKind
    run_id: str
    iteration: int | None = None
    phase: str | None = None
    message: str = ""
    """One line for a human."""
    data: dict[str, JsonValue] = Field(default_factory=dict)
    """Details: a phase's status and duration, a verdict's status and score, ..."""
    at: datetime = Field(default_factory=utcnow)


RunInfoStatus = Literal["running", "interrupted", "solved", "not_solved", "error", "unknown"]
EventHandler = Callable[[RunEvent], None] | Callable[[RunEvent], Awaitable[None]]


class Emitter:
    """Calls a sync or async handler; a failing handler never stops the run (it is an edge)."""

    def __init__(self, run_id: str, handler: EventHandler | None) -> None:
        self.run_id = run_id
        self._handler = handler

    async def __call__(
        self,
        kind: EventKind,
        message: str = "",
        *,
        iteration: int | None = None,
        phase: str | None = None,
        data: dict[str, JsonValue] | None = None,
    ) -> None:
        if self._handler is None:
            return
        event = RunEvent(
            kind=kind, run_id=self.run_id, iteration=iteration, phase=phase, message=message, data=data or {}
        )
        try:
            result = self._handler(event)
            if inspect.isawaitable(result):
                await result
        except Exception:  # an observer's bug must not break the run, nor go unseen
            log.exception("the event handler failed on %s of run %s; the run goes on", kind, self.run_id)


class RunInfo(BaseModel):
    """A run as seen from disk: readable while it runs (from the journal) and after a restart."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    workspace: Path
    status: RunInfoStatus
    current_iteration: int | None = None
    current_phase: str | None = None
    iterations_planned: int | None = None
    solved: bool = False
    evidence: Evidence = "none"
    best_score: float | None = None
    cost_usd: float | None = None
    started_at: datetime | None = None
    updated_at: datetime | None = None
    iterations: list[IterationBrief] = Field(default_factory=list)
    """Per-iteration verdicts so far."""
    run_dir: Path
