"""The records of detached jobs: what a worker does (its spec), who runs it (the job record), its progress
events, and the comparison status :func:`~harnessgym.jobs.compares.get_compare` reads from disk.

A job is one worker process that runs a run, a resume, a continuation or a comparison through the library, in
its own session, apart from the client that asked for it. Its folder is ``.harnessgym/jobs/<job_id>/`` of the
workspace (for a comparison: of the output folder), so whoever can see the run can see its job.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from harnessgym.compare.models import CompareConfig, CompareReport, Group, TrialRecord
from harnessgym.config import RunConfig
from harnessgym.events import RunEvent
from harnessgym.records import utcnow

__all__ = [
    "CompareInfo",
    "CompareJob",
    "CompareStatus",
    "ContinueJob",
    "JobEvent",
    "JobKind",
    "JobOutcome",
    "JobRecord",
    "JobSpec",
    "JobStatus",
    "ResumeJob",
    "RunJob",
    "TrialProgress",
]

JobKind = Literal["run", "compare"]
JobStatus = Literal["running", "finished", "error", "interrupted", "lost"]
"""``running``: its worker is alive (verified by pid, start time and tag). ``finished``: the library call
returned. ``error``: it raised (see ``error``). ``interrupted``: it was stopped by a signal and left resumable.
``lost``: its worker is gone without saying how it ended (killed with SIGKILL, or the machine restarted)."""


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunJob(_Spec):
    """Start a new run."""

    action: Literal["run"] = "run"
    """What the worker does."""
    config: RunConfig
    """The run's whole configuration."""


class ResumeJob(_Spec):
    """Continue an interrupted run after its last completed phase."""

    action: Literal["resume"] = "resume"
    """What the worker does."""
    workspace: Path
    """The run's workspace."""
    run_id: str
    """The run to resume."""


class ContinueJob(_Spec):
    """Run more iterations of a finished or interrupted run."""

    action: Literal["continue"] = "continue"
    """What the worker does."""
    workspace: Path
    """The run's workspace."""
    run_id: str
    """The run to step on."""
    iterations: int = Field(default=1, gt=0)
    """How many more iterations."""
    allow_solved: bool = False
    """Step on although the run already solved the task."""


class CompareJob(_Spec):
    """Run a comparison."""

    action: Literal["compare"] = "compare"
    """What the worker does."""
    config: CompareConfig
    """The comparison's whole configuration."""


JobSpec = Annotated[RunJob | ResumeJob | ContinueJob | CompareJob, Field(discriminator="action")]


class JobOutcome(BaseModel):
    """``outcome.json``: how the worker ended, written by the worker itself on its way out."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["finished", "error", "interrupted"]
    """How the library call ended."""
    began: bool
    """Whether the call got past its up-front checks (it emitted a progress event). A job that failed before
    is a refusal: it changed nothing on disk."""
    error: str | None = None
    """The error that stopped it: a library error's own message, or the exception's type and message."""
    ended_at: datetime = Field(default_factory=utcnow)
    """When the worker wrote this."""


class JobRecord(BaseModel):
    """``job.json``: one detached worker, written once by the process that started it (with ``outcome`` and
    ``status`` filled in when it is read back)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    """Version of this record's shape."""
    job_id: str
    """The job folder's name."""
    kind: JobKind
    """A run (started, resumed or continued) or a comparison."""
    key: str
    """The run id, or the comparison's output folder."""
    folder: Path
    """The workspace (the output folder for a comparison) whose ``.harnessgym/jobs`` holds the job."""
    job_dir: Path
    """The job's own folder."""
    spec: JobSpec
    """What the worker does."""
    pid: int
    """The worker's process id."""
    proc_start: int | None
    """The worker's start time (field 22 of /proc/<pid>/stat): with ``pid`` and ``tag``, how a later process
    verifies that the pid is still this worker before it signals it."""
    tag: str
    """The ``HARNESSGYM_PROC_TAG`` value in the worker's environment."""
    started_at: datetime = Field(default_factory=utcnow)
    """When the worker was started."""
    stdout_log: Path
    """The worker's stdout."""
    stderr_log: Path
    """The worker's stderr (tracebacks of unexpected errors)."""
    events_path: Path
    """The worker's progress events, one :class:`JobEvent` per line."""
    status: JobStatus = "running"
    """Derived when read: see :data:`JobStatus`."""
    outcome: JobOutcome | None = None
    """What the worker wrote as it ended; None while it runs (or if it was killed)."""

    @property
    def error(self) -> str | None:
        return self.outcome.error if self.outcome is not None else None

    @property
    def failure(self) -> str | None:
        """Why the job did not end as it should: its error, or that its worker ended without saying how."""
        if self.status == "lost":
            return f"its worker (pid {self.pid}) ended without recording how (killed?); see {self.stderr_log}"
        return self.error

    @property
    def refused(self) -> bool:
        """It failed before it began: nothing on disk is its doing."""
        return self.outcome is not None and self.outcome.status == "error" and not self.outcome.began


class TrialProgress(BaseModel):
    """A comparison's trial starting or ending."""

    model_config = ConfigDict(extra="forbid")

    group: Group
    """The trial's group."""
    index: int
    """The trial's number in its group."""
    position: int
    """Its 1-based place in the run order."""
    total: int
    """Trials in both groups together."""
    finished: bool
    """False as it starts, True as it ends."""


class JobEvent(BaseModel):
    """One line of a job's ``events.jsonl``."""

    model_config = ConfigDict(extra="forbid")

    seq: int
    """Its number in the job, from 1."""
    at: datetime = Field(default_factory=utcnow)
    """When it happened."""
    message: str
    """One line for a human (a comparison's carries the trial: ``[2/4] plain #1: iteration 1: verify``)."""
    run_event: RunEvent | None = None
    """The run's own event, if it is one."""
    trial: TrialProgress | None = None
    """A trial starting or ending, for a comparison."""


CompareStatus = Literal["running", "completed", "interrupted", "error", "unfinished"]
"""``running``: a job worker runs it, or another process holds its output folder's lock. ``completed`` and
``interrupted``: its report says so. ``error``: it stopped with an error, or its report cannot be read.
``unfinished``: trials on disk, no report, and nothing runs it (it was killed before it wrote the report)."""


class CompareInfo(BaseModel):
    """A comparison as its output folder (trials, report, job) describes it."""

    model_config = ConfigDict(extra="forbid")

    output_dir: Path
    """The comparison's output folder (absolute): its identity."""
    status: CompareStatus
    """See :data:`CompareStatus`."""
    live: bool
    """A harnessgym job worker runs it right now."""
    error: str | None = None
    """Why it stopped with an error, if it did."""
    trials: list[TrialRecord] = Field(default_factory=list)
    """The finished trials, in run order."""
    trials_started: int = 0
    """Trial folders on disk (a trial's folder exists from its start)."""
    trials_planned: int | None = None
    """Both groups together; unknown for an unfinished comparison without a report or job."""
    running_trial: TrialProgress | None = None
    """The trial in progress, while a job runs it."""
    last_event: str | None = None
    """The latest progress message of the trial in progress."""
    report: CompareReport | None = None
    """``compare_report.json``, once this comparison wrote it (an earlier comparison's is not shown)."""
    holder_pid: int | None = None
    """A process that is not a job worker and holds the output folder (``harnessgym compare``, a library
    caller): it runs the comparison."""
    job: JobRecord | None = None
    """The latest job that ran it, if one did."""
