"""The library surface: start, resume and inspect runs (sync and async twins)."""

from __future__ import annotations

from pathlib import Path

import anyio

from harnessgym.config import RunConfig
from harnessgym.events import EventHandler
from harnessgym.records import RunSummary

__all__ = ["resume", "resume_async", "run", "run_async"]


async def run_async(config: RunConfig, on_event: EventHandler | None = None) -> RunSummary:
    """Run the loop; ``on_event`` (sync or async) sees progress. Cancelling stops the agent's whole process
    tree, writes an ``interrupted`` summary and leaves the run resumable."""
    from harnessgym.loop import start_run

    return await start_run(config, on_event)


def run(config: RunConfig, on_event: EventHandler | None = None) -> RunSummary:
    """Blocking twin of :func:`run_async`."""
    return anyio.run(run_async, config, on_event)


async def resume_async(workspace: Path, run_id: str, on_event: EventHandler | None = None) -> RunSummary:
    """Continue an interrupted (cancelled, SIGTERMed or killed) run after its last completed phase."""
    from harnessgym.loop import resume_run

    return await resume_run(Path(workspace), run_id, on_event)


def resume(workspace: Path, run_id: str, on_event: EventHandler | None = None) -> RunSummary:
    """Blocking twin of :func:`resume_async`."""
    return anyio.run(resume_async, workspace, run_id, on_event)
