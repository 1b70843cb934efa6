"""Measured scores: what a post-attempt (or verify) command measured, how an optimization run stands against its
baseline, and the best-workspace checkpoint.

The rules, in one place:

- A **post-attempt** measurement passes when the command exits 0, prints a JSON object, and that object's
  ``status`` is missing or passing (upstream's rule). A **verify** measurement passes by the verify rule
  (the JSON ``status`` if there is one, else the exit code).
- A passing post-attempt measurement is a *measurement*, not a verdict: it solves a task only when it states a
  passing ``status`` (:attr:`Measurement.states_pass`) or its score reaches the stop score. A bare metrics
  object such as ``{"best_ms": 123}`` says how fast, not whether the task is done.
- In optimization mode a score counts only when every configured command passed (a fast but wrong workspace is
  not "better"); the agent's own score never counts.
- Improvement is direction-aware: a positive ``delta_from_baseline`` is better, whichever way the score goes.

This module holds records and pure arithmetic; it never runs anything or touches files.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = [
    "PASSING_STATUSES",
    "BestCheckpoint",
    "Measurement",
    "OptimizationStep",
    "OptimizationSummary",
    "RestoredBest",
    "is_better",
    "progress",
    "reached",
]


PASSING_STATUSES = frozenset({"passed", "pass", "ok", "success", "solved"})
"""JSON ``status`` values that state a pass (lowercased, as upstream)."""


class Measurement(BaseModel):
    """One run of a post-attempt or verify command that harnessgym made itself."""

    model_config = ConfigDict(extra="forbid")

    command: str
    rule: Literal["post_attempt", "verify"] = "post_attempt"
    """Which pass rule applied (see the module docstring)."""
    status: Literal["completed", "failed", "timeout", "error"]
    """``completed``: exit 0; ``failed``: another exit code; ``timeout``: killed at the limit (the whole tree);
    ``error``: it could not be started."""
    passed: bool
    score: float | None = None
    """The first number found in the JSON output, in upstream's order
    (see :func:`harnessgym.evidence.verify.extract_score`)."""
    score_key: str = "score"
    return_code: int | None = None
    timed_out: bool = False
    duration_seconds: float = 0.0
    stdout_path: Path | None = None
    stderr_path: Path | None = None
    payload: dict[str, JsonValue] | None = None
    """The command's stdout as a JSON object, if it was one."""
    message: str = ""

    @property
    def states_pass(self) -> bool:
        """Whether it passed *and* its JSON output says so in a ``status`` (not just a bare metrics object)."""
        reported = self.payload.get("status") if self.payload is not None else None
        return self.passed and isinstance(reported, str) and reported.strip().lower() in PASSING_STATUSES


class OptimizationStep(BaseModel):
    """Where one iteration of an optimization run stands (``IterationRecord.optimization``)."""

    model_config = ConfigDict(extra="forbid")

    score_key: str
    higher_is_better: bool
    current_score: float | None = None
    """The measured score that counts (None when the measurement failed or printed no number)."""
    baseline_score: float | None = None
    previous_best_score: float | None = None
    """The best counted score before this iteration, the baseline included."""
    previous_best_iteration: int | None = None
    """Where ``previous_best_score`` came from; 0 is the baseline."""
    improved_from_previous_best: bool = False
    improved_from_baseline: bool = False
    delta_from_baseline: float | None = None
    """How much better than the baseline (positive = better, in either direction)."""
    relative_improvement: float | None = None
    """``delta_from_baseline / |baseline|``; None for a zero or missing baseline."""
    target_reached: bool = False
    checkpointed: bool = False
    """Whether the workspace was snapshotted as the new best."""


class OptimizationSummary(BaseModel):
    """The summary's ``optimization`` block."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    score_key: str
    higher_is_better: bool
    restore_best: bool
    baseline_score: float | None = None
    best_score: float | None = None
    """The best counted score of the run, the baseline included."""
    best_iteration: int | None = None
    """Where ``best_score`` came from; 0 is the baseline."""
    improved: bool = False
    """Whether some iteration scored strictly better than the baseline."""
    absolute_delta_from_baseline: float | None = None
    """``best_score`` against the baseline (positive = better, in either direction)."""
    relative_improvement: float | None = None


class BestCheckpoint(BaseModel):
    """``checkpoints/best/best_manifest.json``: the snapshot of the best-scoring workspace."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    iteration: int
    """0 is the untouched workspace (the baseline)."""
    score: float
    files: list[str] = Field(default_factory=list)
    """Files in the snapshot, relative to the workspace."""
    file_count: int = 0
    created_at: datetime


class RestoredBest(BaseModel):
    """The summary's ``restored_best``: what the end of an optimization run did about the best checkpoint."""

    model_config = ConfigDict(extra="forbid")

    restored: bool
    reason: Literal["restored", "already_best", "no_checkpoint", "failed"]
    iteration: int | None = None
    score: float | None = None
    """The score the checkpoint was taken with."""
    restored_file_count: int = 0
    post_restore: Measurement | None = None
    """The measurement re-run on the restored workspace."""
    post_restore_passed: bool | None = None
    post_restore_score: float | None = None
    message: str = ""


def is_better(score: float, than: float | None, higher_is_better: bool) -> bool:
    """Strictly better; anything beats no score."""
    if than is None:
        return True
    return score > than if higher_is_better else score < than


def reached(score: float | None, target: float | None, higher_is_better: bool) -> bool:
    if score is None or target is None:
        return False
    return score >= target if higher_is_better else score <= target


def progress(score: float | None, baseline: float | None, higher_is_better: bool) -> tuple[float | None, float | None]:
    """(absolute, relative) improvement of ``score`` over ``baseline``; positive is better."""
    if score is None or baseline is None:
        return None, None
    delta = score - baseline if higher_is_better else baseline - score
    return delta, (delta / abs(baseline) if baseline != 0 else None)
