"""What the control tools return: small views around the library's own records, so schemas stay honest."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from harnessgym.artifacts.registry import ArtifactEntry, ArtifactVerdict
from harnessgym.compare.models import CompareVerdict, Comparison, GroupSummary
from harnessgym.events import RunEvent, RunInfo
from harnessgym.jobs.models import CompareStatus
from harnessgym.records import IterationRecord, RunSummary

__all__ = [
    "ArtifactList",
    "ArtifactView",
    "CompareStatus",
    "CompareView",
    "IterationView",
    "QualifyView",
    "RunList",
    "RunView",
    "StartedCompare",
    "StartedRun",
    "summary_uri",
]


def summary_uri(run_id: str) -> str:
    return f"harnessgym://runs/{run_id}/summary"


class StartedRun(BaseModel):
    """A run that was started (or resumed) in the background."""

    run_id: str
    workspace: Path
    status: Literal["running"] = "running"
    summary_uri: str
    next_step: str = Field(
        default="call get_run with this run_id (wait_seconds up to 600 waits for progress) until status is not "
        "'running'; cancel_run stops it and resume_run continues it"
    )


class RunView(BaseModel):
    """A run as the journal on disk describes it, plus its latest job's events (when a job worker drove it)."""

    run: RunInfo
    live: bool
    """True while a harnessgym job worker (started through serve, by this server or another) drives the run."""
    last_event: RunEvent | None = None
    recent_events: list[RunEvent] = Field(default_factory=list)
    error: str | None = None
    """Why the run's job worker stopped with an error, or ended without saying how (killed), if it did."""
    summary_uri: str


class RunList(BaseModel):
    runs: list[RunInfo]
    workspaces: list[Path]
    """The workspaces that were searched."""


class IterationView(BaseModel):
    """One iteration a client asked for and waited on."""

    run_id: str
    workspace: Path
    summary: RunSummary | None
    iteration: IterationRecord | None
    """The iteration's record (phases, verdict, qualification), when it was written."""
    error: str | None = None


class ArtifactList(BaseModel):
    workspace: Path
    artifacts: list[ArtifactEntry]


class ArtifactView(BaseModel):
    workspace: Path
    artifact: ArtifactEntry


class QualifyView(BaseModel):
    workspace: Path
    verdict: ArtifactVerdict
    """What qualification found."""
    artifact: ArtifactEntry | None
    """The registry entry afterwards (qualified or quarantined)."""


class StartedCompare(BaseModel):
    """A comparison that was started in the background; its first trial is under way."""

    compare_id: str
    """The absolute output folder: pass it to get_compare and cancel_compare."""
    output_dir: Path
    report_path: Path
    """Where compare_report.json is written when the comparison ends (also when it is cancelled)."""
    trials_planned: int
    """Trials in both groups together."""
    status: Literal["running"] = "running"
    next_step: str = Field(
        default="call get_compare with this compare_id (wait_seconds up to 600 waits for progress) until status "
        "is not 'running', then read its verdict; cancel_compare stops it"
    )


class CompareView(BaseModel):
    """A comparison as its files on disk describe it (trials, report, and the job worker that runs it)."""

    compare_id: str
    """The absolute output folder."""
    output_dir: Path
    status: CompareStatus
    """``running`` with ``live`` false: another process runs it (it holds the output folder's lock).
    ``unfinished``: trials on disk, no report, and nothing runs it (it was killed before it wrote the report)."""
    live: bool
    """True while a harnessgym job worker (started through serve, by this server or another) runs it."""
    error: str | None = None
    """Why the comparison stopped with an error, if it did."""
    trials_finished: int
    trials_planned: int | None = None
    """Both groups together; unknown for an unfinished comparison without a report."""
    trials: list[str] = Field(default_factory=list)
    """One line per finished trial, in run order: solved or not, time, score, active artifacts, MCP calls."""
    running_trial: str | None = None
    """The trial in progress."""
    last_event: str | None = None
    """The latest progress message of the trial in progress."""
    verdict: CompareVerdict | None = None
    """Once the report is written: the answer from the pre-declared primary outcome (outcome, primary, p,
    headline, notes). An interrupted comparison's verdict covers its finished trials only."""
    plain: GroupSummary | None = None
    harnessed: GroupSummary | None = None
    comparison: Comparison | None = None
    """The tests between the groups: solve rate difference, Fisher, Mann-Whitney on durations and scores."""
    report_path: Path
    next_step: str
