"""One task of a comparison, fully resolved: what every trial of that task needs besides its arm and runner.

A one-task comparison (``--workspace-template``/``--task``) has one :class:`TaskSpec`; a suite
(``--suite``) has one per task, its fields filled from the task, then the suite's defaults, then the command
line. Paths are absolute on the machine that resolved them; an executor that runs trials elsewhere ships the
template (and the bundle) and rewrites ``workspace_template`` with :meth:`pydantic.BaseModel.model_copy`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from harnessgym.duration import Duration

if TYPE_CHECKING:
    from harnessgym.compare.models import CompareConfig

__all__ = ["ARM_CHOICES", "Group", "TaskSpec", "TrialKey", "check_arms", "check_runners", "comma_list", "one_task"]

ARM_CHOICES = ("plain", "harnessed", "ablate")
Group = Literal["plain", "harnessed"]


class TrialKey(BaseModel):
    """One slot of the trial order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: Group
    index: int
    """1-based within its group."""
    task: str = ""
    """The suite task's name (empty for a one-task comparison)."""
    arm: str = ""
    """``plain``, ``harnessed`` or ``minus:<artifact id>`` (a leave-one-out arm); empty means ``group``."""
    runner: str = ""
    """The runner of this trial (empty: the comparison's only runner)."""

    @property
    def arm_name(self) -> str:
        return self.arm or self.group

    @property
    def trial_id(self) -> str:
        """Unique within a comparison: ``<task>/<runner>/<arm>/<index>`` (empty parts left out)."""
        return "/".join(p for p in (self.task, self.runner, self.arm_name, str(self.index)) if p)


class TaskSpec(BaseModel):
    """One task, resolved."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """Unique within the comparison; names the task's folder under ``--output-dir``."""
    split: str = "test"
    """``train``, ``test`` or another name; ``--split`` picks the tasks of one split."""
    workspace_template: Path
    """The clean starting point; each trial gets a fresh copy."""
    task_text: str
    """The task, as given or read from the task file."""
    task_file: str | None = None
    """The task file relative to the template, when it lies inside it (mapped into each trial's copy)."""
    artifact_source: Path | None = None
    """The workspace whose artifacts the harnessed arms get (None: the template's own registry, if any)."""
    trials: int = Field(default=3, gt=0)
    """Trials per arm."""
    iterations: int = Field(default=1, gt=0)
    """Attempts per trial (attempt-only)."""
    attempt_timeout: Duration = 45 * 60.0
    """Wall-clock limit of one attempt."""
    attempt_timeouts: tuple[Duration, ...] = ()
    """Per-iteration attempt limits; the last one is reused."""
    verify_command: str | None = None
    """harnessgym runs it after every attempt; its verdict is the evidence of "solved"."""
    verify_timeout: Duration = 120.0
    """Limit of one verify run."""
    post_command: str | None = None
    """Run once on each trial's final workspace; without a verify command it is the evidence."""
    post_score_key: str | None = None
    """Where the post score is in the post command's JSON; defaults to ``score_key``."""
    post_timeout: Duration = 120.0
    """Limit of the post command."""
    score_key: str = "score"
    """Where the score is in the verify command's JSON."""
    stop_score: float | None = None
    """A trial also counts as solved once its measured score reaches this."""
    higher_is_better: bool = False
    """Direction of the score."""
    task_state: Literal["continue", "reset"] = "reset"
    """``reset`` restores the workspace before each attempt after the first."""

    @property
    def evidence_command(self) -> Literal["verify", "post"]:
        return "verify" if self.verify_command is not None else "post"

    @property
    def post_key(self) -> str:
        return self.post_score_key or self.score_key


def one_task(config: CompareConfig) -> TaskSpec:
    """The one task of a comparison without a suite."""
    template, text = config.workspace_template, config.task_text
    assert template is not None and text is not None
    task_file = None
    if config.task_path is not None and config.task_path.is_relative_to(template):
        task_file = str(config.task_path.relative_to(template))
    return TaskSpec(
        name=template.name or "task", workspace_template=template, task_text=text, task_file=task_file,
        artifact_source=config.artifact_source, trials=config.trials, iterations=config.iterations,
        attempt_timeout=config.attempt_timeout, attempt_timeouts=config.attempt_timeouts,
        verify_command=config.verify_command, verify_timeout=config.verify_timeout,
        post_command=config.post_command, post_score_key=config.post_score_key, post_timeout=config.post_timeout,
        score_key=config.score_key, stop_score=config.stop_score, higher_is_better=config.higher_is_better,
        task_state=config.task_state,
    )  # fmt: skip


def comma_list(value: object) -> object:
    """``plain,harnessed`` and repeated options alike, as one tuple."""
    if isinstance(value, str):
        value = (value,)
    if isinstance(value, list | tuple):
        return tuple(part.strip() for v in value for part in str(v).split(",") if part.strip())
    return value


def check_arms(value: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [a for a in value if a not in ARM_CHOICES]
    if unknown or not value or len(set(value)) != len(value):
        raise ValueError(f"arms are a comma-separated choice of {', '.join(ARM_CHOICES)} without repeats, "
                         f"not {','.join(value) or 'nothing'}")  # fmt: skip
    if "ablate" in value and "harnessed" not in value:
        raise ValueError("the ablate arms are compared with the harnessed arm: add harnessed to the arms")
    return value


def check_runners(value: tuple[str, ...]) -> tuple[str, ...]:
    from harnessgym.config import known_runner

    if len(set(value)) != len(value):
        raise ValueError(f"a runner is named twice in {','.join(value)}")
    return tuple(str(known_runner(v)) for v in value)
