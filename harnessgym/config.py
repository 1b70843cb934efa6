"""The run configuration: one frozen model that the CLI, the library and the control server all build."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harnessgym.duration import Duration
from runners import RunnerOptions

__all__ = ["RUNNER_NAMES", "RunConfig", "known_runner", "new_run_id"]

RUNNER_NAMES: tuple[str, ...] = ("fake", "claude", "codex", "exec")


def known_runner(value: str) -> str:
    """``value`` if it names a runner; the check every config with a ``runner`` field shares."""
    if value not in RUNNER_NAMES:
        raise ValueError(f"unknown runner {value!r}; choose one of: {', '.join(RUNNER_NAMES)}")
    return value
SCHEMA_VERSION = 1


def new_run_id() -> str:
    """``YYYYmmddTHHMMSSZ-<8 hex>``, as upstream."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


class RunConfig(BaseModel):
    """Everything one run needs. Persisted as ``runs/<id>/run_config.json`` so ``--resume`` needs nothing else."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    """Version of this record's shape."""
    workspace: Path
    """The agent's working directory (absolute)."""
    task_text: str
    """The task, as given or read from the task file."""
    task_path: Path | None = None
    """Where the task text came from, if a file."""
    run_id: str = Field(default_factory=new_run_id)
    """The run's folder name under ``.harnessgym/runs``."""
    iterations: int = Field(default=3, gt=0)
    """How many attempt/reflect/build cycles at most."""
    runner: str = "fake"
    """``fake``, ``claude``, ``codex`` or ``exec`` (= codex)."""
    runner_options: RunnerOptions = Field(default_factory=RunnerOptions)
    """How to drive the agent CLI."""
    attempt_timeout: Duration = 45 * 60.0
    """Wall-clock limit of an attempt."""
    attempt_timeouts: tuple[Duration, ...] = ()
    """Per-iteration attempt limits; the last one is reused for later iterations."""
    build_timeout: Duration = 20 * 60.0
    """Limit of a build and of each repair."""
    reflection_timeout: Duration | None = None
    """Limit of a reflection; defaults to the build timeout."""
    verify_timeout: Duration = 120.0
    """Limit of one verify command run."""
    verify_pass_env: tuple[str, ...] = ()
    """Secret-named variables the verify and post-attempt commands still get (they get no other: what they run
    is mostly the agent's code)."""
    task_state: Literal["continue", "reset"] = "continue"
    """``reset`` restores the workspace (except ``.harnessgym``) before every iteration after the first."""
    build_after_solve: bool = False
    """Still reflect and build after a solved attempt."""
    verify_command: str | None = None
    """A shell command harnessgym runs itself after each attempt; its verdict decides "solved"."""
    score_key: str = "score"
    """Where the score is found in the verify command's JSON output."""
    stop_score: float | None = None
    """Stop once the measured score reaches this value."""
    higher_is_better: bool = False
    """Direction of the score; lower is better by default, as upstream."""
    post_attempt_command: str | None = None
    """A shell command harnessgym runs after every attempt (after the verify command, if any), in the workspace
    and its own process group. Its stdout is read as a JSON object for a score; it passes when it exits 0, prints
    a JSON object, and that object's ``status`` (if any) is passing. Without a verify command, its verdict decides
    "solved" the way a verify command's would."""
    post_attempt_score_key: str | None = None
    """Where the score is in the post-attempt command's JSON output; defaults to ``score_key``."""
    post_attempt_timeout: Duration = 120.0
    """Limit of one post-attempt command run."""
    optimization_mode: bool = False
    """The task is to improve a measured score: the score is measured before iteration 1 (the baseline) and
    after every attempt, and "solved" means the measured score reached ``stop_score``, never the agent's word.
    Needs a post-attempt or verify command to measure with."""
    restore_best: bool = True
    """Optimization mode only: keep a snapshot of the best-scoring workspace and put it back at the end of the
    run if the workspace left by the last iteration scores worse."""
    harness_depth: Literal["standard", "deep"] = "deep"
    """How much tooling the reflection and build phases ask for: ``standard`` keeps each artifact small and
    focused; ``deep`` asks for a suite of executable, self-tested tools."""
    qualify_artifacts: bool = True
    """Qualify new artifacts in a clean copy of the workspace before activating them."""
    artifact_repair_attempts: int = Field(default=1, ge=0)
    """How many times the build session may repair artifacts that failed qualification."""
    attempt_only: bool = False
    """Attempts only (``harnessgym compare``): no reflection, build or qualification; the artifacts already
    active in the workspace are activated as usual."""

    @field_validator("workspace")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @field_validator("runner")
    @classmethod
    def _known_runner(cls, value: str) -> str:
        return known_runner(value)

    @field_validator("run_id")
    @classmethod
    def _safe_run_id(cls, value: str) -> str:
        from harnessgym.store.layout import is_run_id

        if not is_run_id(value):
            raise ValueError(f"run id {value!r} may hold only letters, digits, '-', '_' and '.'")
        return value

    @model_validator(mode="after")
    def _task_present(self) -> RunConfig:
        if not self.task_text.strip():
            raise ValueError("the task is empty; pass --task FILE or --task-text TEXT")
        return self

    @model_validator(mode="after")
    def _something_to_measure(self) -> RunConfig:
        if self.optimization_mode and not (self.post_attempt_command or self.verify_command):
            raise ValueError(
                "optimization mode measures a score; give a post-attempt or verify command to measure it with "
                "(--post-attempt-command or --verify-command)"
            )
        return self

    @property
    def post_score_key(self) -> str:
        """The key the post-attempt command's score is read from."""
        return self.post_attempt_score_key or self.score_key

    @property
    def measure_score_key(self) -> str:
        """The key of the score that counts: the post-attempt command's when there is one, else ``score_key``."""
        return self.post_score_key if self.post_attempt_command else self.score_key

    @property
    def measure_command(self) -> str | None:
        """The command whose score counts in optimization mode: the post-attempt command, else the verify one."""
        return self.post_attempt_command or self.verify_command

    def attempt_timeout_for(self, iteration: int) -> float:
        """The attempt limit of ``iteration`` (1-based)."""
        if not self.attempt_timeouts:
            return self.attempt_timeout
        return self.attempt_timeouts[min(iteration, len(self.attempt_timeouts)) - 1]

    @property
    def reflection_limit(self) -> float:
        return self.reflection_timeout if self.reflection_timeout is not None else self.build_timeout
