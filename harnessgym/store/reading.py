"""Reading one run's records back: its summary, an iteration's record, and what an agent phase left on disk.

Readers for clients (the control server, reports): a missing file is ``None``, never an error, and logs are
served from their end so a long session costs a bounded read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from harnessgym.records import AgentResult, IterationRecord, JournalEntry, RunSummary
from harnessgym.store.files import read_agent_result, read_journal, read_model
from harnessgym.store.layout import Layout

__all__ = [
    "OUTPUT_LIMIT_BYTES",
    "TRANSCRIPT_LIMIT_BYTES",
    "PhaseTexts",
    "iteration_records",
    "read_iteration",
    "read_phase_files",
    "read_summary",
    "read_tail",
]

TRANSCRIPT_LIMIT_BYTES = 1024 * 1024
"""A transcript longer than this is served from its end (the latest part is what a client wants)."""
OUTPUT_LIMIT_BYTES = 64 * 1024
"""The same for a phase's raw stdout and stderr, which are mostly machine events."""


class PhaseTexts(BaseModel):
    """What one agent phase of an iteration left on disk, read for people and clients."""

    model_config = ConfigDict(extra="forbid")

    iteration: int
    phase: str
    result: AgentResult | None = None
    """The iteration's result.json as it stands (the agent writes one per iteration, phase after phase)."""
    problems: list[str] = Field(default_factory=list)
    """What is wrong with result.json, if anything."""
    transcript: str | None = None
    """The readable log of the session, its last :data:`TRANSCRIPT_LIMIT_BYTES`; None when not written."""
    stdout: str | None = None
    """The CLI's raw stdout, its last :data:`OUTPUT_LIMIT_BYTES`."""
    stderr: str | None = None
    """The CLI's raw stderr, its last :data:`OUTPUT_LIMIT_BYTES`."""


def read_tail(path: Path, limit: int) -> str | None:
    """The last ``limit`` bytes of a text file, with a note of what was left out; None when it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO put here must not block the read
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            os.set_blocking(fd, True)
            size = fh.seek(0, 2)
            fh.seek(max(0, size - limit))
            data = fh.read(limit)
    except OSError:
        return None
    text = data.decode("utf-8", errors="replace")
    if size > limit:
        text = f"[... the first {size - limit} bytes are omitted ...]\n" + text
    return text


def read_phase_files(layout: Layout, run_id: str, n: int, phase: str, *, repair: int | None = None) -> PhaseTexts:
    """Iteration ``n``'s result.json and the ``phase`` session's transcript, stdout and stderr (their ends)."""
    run = layout.run(run_id)
    files = run.phase(n, phase, repair)
    result: AgentResult | None = None
    problems: list[str] = []
    if run.result(n).exists():  # a phase that has not begun yet is not a problem of its result.json
        result, problems = read_agent_result(run.result(n), n, phase)
    return PhaseTexts(
        iteration=n,
        phase=phase,
        result=result,
        problems=problems,
        transcript=read_tail(files.transcript, TRANSCRIPT_LIMIT_BYTES),
        stdout=read_tail(files.stdout, OUTPUT_LIMIT_BYTES),
        stderr=read_tail(files.stderr, OUTPUT_LIMIT_BYTES),
    )


def read_summary(layout: Layout, run_id: str) -> RunSummary | None:
    """The run's summary, written when it finished or was interrupted; None before that."""
    return read_model(layout.run(run_id).summary, RunSummary)


def iteration_records(entries: Sequence[JournalEntry]) -> dict[int, IterationRecord]:
    """The latest journaled record of each iteration."""
    records: dict[int, IterationRecord] = {}
    for entry in entries:
        if entry.record is not None:
            records[entry.record.iteration] = entry.record
    return records


def read_iteration(layout: Layout, run_id: str, n: int) -> IterationRecord | None:
    """Iteration ``n``'s record: its ``iteration.json``, else the latest one journaled; None when neither."""
    run = layout.run(run_id)
    record = read_model(run.iteration_record(n), IterationRecord)
    if record is None:
        record = iteration_records(read_journal(run.journal)).get(n)
    return record
