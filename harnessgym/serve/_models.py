"""What the control tools return: small views around the library's own records, so schemas stay honest."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from harnessgym.events import RunEvent, RunInfo
from harnessgym.records import IterationRecord, RunSummary
from harnessgym.registry import ArtifactEntry, ArtifactVerdict

__all__ = [
    "ArtifactList",
    "ArtifactView",
    "IterationView",
    "QualifyView",
    "RunList",
    "RunView",
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
    """A run as the journal on disk describes it, plus what this server process knows live."""

    run: RunInfo
    live: bool
    """True while this server process is driving the run."""
    last_event: RunEvent | None = None
    recent_events: list[RunEvent] = Field(default_factory=list)
    error: str | None = None
    """Why the run stopped with an error in this server, if it did."""
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
