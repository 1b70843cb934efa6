"""The library surface: start, resume, continue and cancel runs (sync and async twins)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio

from harnessgym.config import RunConfig
from harnessgym.events import EventHandler, RunInfo
from harnessgym.records import RunSummary

__all__ = [
    "cancel_run",
    "cancel_run_async",
    "continue_async",
    "continue_run",
    "interrupt_run",
    "resume",
    "resume_async",
    "run",
    "run_async",
]


async def run_async(config: RunConfig, on_event: EventHandler | None = None) -> RunSummary:
    """Run the loop; ``on_event`` (sync or async) sees progress. Cancelling stops the agent's whole process
    tree, writes an ``interrupted`` summary and leaves the run resumable."""
    from harnessgym.loop import start_run

    return await start_run(config, on_event)


def run(config: RunConfig, on_event: EventHandler | None = None) -> RunSummary:
    """Blocking twin of :func:`run_async`."""
    return anyio.run(run_async, config, on_event)


async def resume_async(
    workspace: Path,
    run_id: str,
    on_event: EventHandler | None = None,
    *,
    changes: Mapping[str, Any] | None = None,
    spell: Callable[[str], str] = str,
) -> RunSummary:
    """Continue an interrupted (cancelled, SIGTERMed or killed) run after its last completed phase. Options in
    ``changes`` that differ from the run's are applied and recorded (time limits, more iterations) or refused
    (:class:`~harnessgym.errors.ResumeOptionsError`), never dropped."""
    from harnessgym.loop import resume_run

    return await resume_run(Path(workspace), run_id, on_event, changes=changes, spell=spell)


def resume(workspace: Path, run_id: str, on_event: EventHandler | None = None) -> RunSummary:
    """Blocking twin of :func:`resume_async`."""
    return anyio.run(resume_async, workspace, run_id, on_event)


async def continue_async(
    workspace: Path,
    run_id: str,
    iterations: int = 1,
    on_event: EventHandler | None = None,
    *,
    allow_solved: bool = False,
) -> RunSummary:
    """Run ``iterations`` more iterations of a finished or interrupted run: iteration n+1 onwards, in the same
    run folder and journal, with the same run config otherwise. An unfinished iteration is completed first and
    counts as one of them. Raises :class:`~harnessgym.errors.ContinueError` while the run is still running, and
    for a run that already solved the task unless ``allow_solved``."""
    from harnessgym.loop import continue_run as continue_loop

    return await continue_loop(Path(workspace), run_id, iterations, on_event, allow_solved=allow_solved)


def continue_run(
    workspace: Path,
    run_id: str,
    iterations: int = 1,
    on_event: EventHandler | None = None,
    *,
    allow_solved: bool = False,
) -> RunSummary:
    """Blocking twin of :func:`continue_async`."""
    return anyio.run(lambda: continue_async(workspace, run_id, iterations, on_event, allow_solved=allow_solved))


async def interrupt_run(workspace: Path, run_id: str, *, wait: float = 30.0) -> bool:
    """Stop a run that another process is driving (``harnessgym run``, another server) the way Ctrl-C would.

    The process holding the workspace lock for ``run_id`` gets SIGTERM: it kills the agent's tree, writes
    summary.json with status ``interrupted`` (resumable) and releases the lock, which this waits for, up to
    ``wait`` seconds. Returns False when no process holds the workspace for that run.
    """
    import os
    import signal

    from harnessgym import store
    from harnessgym.store.layout import Layout

    layout = Layout(workspace.resolve())
    holder = store.lock_holder(layout)
    if holder is None or holder[1] != run_id:
        return False
    try:
        os.kill(holder[0], signal.SIGTERM)
    except ProcessLookupError:
        return True
    with anyio.move_on_after(wait):
        while store.lock_is_held(layout):  # noqa: ASYNC110 - another process's flock; nothing to wait on but polling
            await anyio.sleep(0.05)
    return True


async def cancel_run_async(workspace: Path, run_id: str, *, wait: float = 30.0) -> RunInfo:
    """Stop a run wherever it runs, the way Ctrl-C would, and return it as it is then (``interrupted``, and
    resumable; still ``running`` if it had not stopped within ``wait`` seconds).

    A run a job worker drives (one started through ``serve``) is stopped by the worker's recorded pid, once
    that pid is verified to still be the worker; any other process holding the workspace for ``run_id`` is
    interrupted as :func:`interrupt_run` does. Raises :class:`~harnessgym.errors.NotRunningError` when nothing
    runs it, and :class:`~harnessgym.errors.RunNotFoundError` for an unknown run.
    """
    from harnessgym.errors import NotRunningError
    from harnessgym.jobs.manager import JOBS
    from harnessgym.jobs.runs import get_run

    ws = Path(workspace).absolute()
    info = get_run(ws, run_id)
    job = JOBS.latest(ws, "run", run_id)
    if (job is not None and await JOBS.cancel(job, wait)) or await interrupt_run(ws, run_id, wait=wait):
        return get_run(ws, run_id)
    raise NotRunningError(f"run {run_id}", info.status)


def cancel_run(workspace: Path, run_id: str, *, wait: float = 30.0) -> RunInfo:
    """Blocking twin of :func:`cancel_run_async`."""
    return anyio.run(lambda: cancel_run_async(workspace, run_id, wait=wait))
