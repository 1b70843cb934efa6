"""Reading one run's records for the resources and tools, through the library's store and layout only."""

from __future__ import annotations

from pathlib import Path

from harnessgym import store
from harnessgym.layout import Layout
from harnessgym.records import IterationRecord, RunSummary
from harnessgym.runs import iteration_records

__all__ = ["TRANSCRIPT_LIMIT_BYTES", "read_iteration", "read_summary", "read_transcript", "workspace_busy"]

TRANSCRIPT_LIMIT_BYTES = 1024 * 1024
"""A transcript longer than this is served from its end (the latest part is what a client wants)."""


def workspace_busy(workspace: Path) -> bool:
    """Whether a run (in any process) holds the workspace right now."""
    return store.lock_is_held(Layout(workspace))


def read_summary(workspace: Path, run_id: str) -> RunSummary | None:
    """The run's summary, written when it finished or was interrupted; None before that."""
    return store.read_model(Layout(workspace).run(run_id).summary, RunSummary)


def read_iteration(workspace: Path, run_id: str, n: int) -> IterationRecord | None:
    """Iteration ``n``'s record: its ``iteration.json``, else the latest one journaled."""
    run = Layout(workspace).run(run_id)
    record = store.read_model(run.iteration_record(n), IterationRecord)
    if record is None:
        record = iteration_records(store.read_journal(run.journal)).get(n)
    return record


def read_transcript(workspace: Path, run_id: str, n: int, phase: str) -> str | None:
    """The readable log of one phase, or None when it was not written; long ones are served from their end."""
    path = Layout(workspace).run(run_id).phase(n, phase).transcript
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - TRANSCRIPT_LIMIT_BYTES))
            data = fh.read()
    except OSError:
        return None
    text = data.decode("utf-8", errors="replace")
    if size > TRANSCRIPT_LIMIT_BYTES:
        text = f"[... the first {size - TRANSCRIPT_LIMIT_BYTES} bytes are omitted ...]\n" + text
    return text
