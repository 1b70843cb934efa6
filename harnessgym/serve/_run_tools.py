"""Tools that start, follow, stop and resume runs, and step single iterations.

Runs go on in the lifespan's task group, so a client may disconnect; the journal on disk is the record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

import harnessgym as hg
from harnessgym import store
from harnessgym.config import RunConfig
from harnessgym.errors import RunNotFoundError
from harnessgym.options import tool_options
from harnessgym.serve._common import (
    PATH_NOTE,
    RunId,
    Workspace,
    config_of,
    library_errors,
    locate,
    state_of,
    task_of,
    view,
    wait_with_progress,
)
from harnessgym.serve._models import IterationView, RunList, RunView, StartedRun, summary_uri
from harnessgym.serve._runs import EventSink, LiveRun, Work
from harnessgym.serve._state import ControlState, Ctx
from harnessgym.store.layout import Layout

__all__ = ["RUN_TOOLS"]

_MAX_WAIT_SECONDS = 600.0
_JOURNAL_POLL_SECONDS = 1.0
_START_CONFIRM_SECONDS = 15.0
"""How long start_run waits for the run's first event, so a refusal (a locked workspace) is reported at once."""

TaskFile = Annotated[str | None, Field(description="A task file (e.g. task.md) under an allowed root.")]
TaskText = Annotated[str | None, Field(description="The task itself, instead of task_file.")]


async def _launch(state: ControlState, run_id: str, ws: Path, work: Work) -> LiveRun:
    """Start ``work`` in the background and wait briefly for its first event or its failure."""
    existing = state.runs.get(run_id)
    if existing is not None and existing.running:
        raise ToolError(f"run {run_id} is already running; follow it with get_run")
    if store.lock_is_held(Layout(ws)):
        raise ToolError(f"workspace {ws} is in use by another harnessgym run; wait for it, cancel it, or use another")
    state.remember(ws)
    live = state.runs.launch(run_id, ws, work)
    with anyio.move_on_after(_START_CONFIRM_SECONDS):
        while live.running and live.event_count == 0:
            await live.wait_change(_START_CONFIRM_SECONDS)
    if live.error is not None:
        raise ToolError(f"run {run_id} could not start: {live.error}")
    return live


def _exists(ws: Path, run_id: str) -> bool:
    try:
        hg.get_run(ws, run_id)
    except RunNotFoundError:
        return False
    return True


def _start(config: RunConfig) -> Work:
    async def work(on_event: EventSink) -> object:
        return await hg.run_async(config, on_event=on_event)

    return work


def _continue(ws: Path, run_id: str, allow_solved: bool) -> Work:
    async def work(on_event: EventSink) -> object:
        return await hg.continue_async(ws, run_id, 1, on_event, allow_solved=allow_solved)

    return work


async def _stop(state: ControlState, live: LiveRun) -> None:
    if not await state.runs.cancel(live):
        raise ToolError(f"run {live.run_id} is still stopping its agent; call get_run in a moment to see it end")


@tool_options(RunConfig, path_note=PATH_NOTE)
async def start_run(
    ctx: Ctx, workspace: Workspace = None, task_file: TaskFile = None, task_text: TaskText = None, **options: Any
) -> StartedRun:
    """Start a harnessgym run in the background and return its id at once. The run goes on if this client
    disconnects; follow it with get_run (wait_seconds waits for progress), stop it with cancel_run, continue an
    interrupted one with resume_run."""
    state = state_of(ctx)
    ws = state.workspace(workspace)
    config = config_of(state, RunConfig, {"workspace": ws, **task_of(state, task_file, task_text)}, options)
    if options.get("run_id") is not None and _exists(ws, config.run_id):
        raise ToolError(f"run id {config.run_id!r} is already used in {ws}; continue it with resume_run or omit "
                        "run_id")  # fmt: skip
    await _launch(state, config.run_id, ws, _start(config))
    return StartedRun(run_id=config.run_id, workspace=ws, summary_uri=summary_uri(config.run_id))


async def get_run(
    ctx: Ctx,
    run_id: RunId,
    workspace: Workspace = None,
    wait_seconds: Annotated[
        float,
        Field(ge=0, le=_MAX_WAIT_SECONDS, description="Wait up to this long for the run to end, sending progress."),
    ] = 0,
) -> RunView:
    """A run's status, current iteration and phase, verdicts, scores, evidence and cost so far."""
    state = state_of(ctx)
    ws = locate(state, run_id, workspace)
    live = state.runs.get(run_id)
    if wait_seconds > 0 and live is not None:
        await wait_with_progress(ctx, live, wait_seconds)
    elif wait_seconds > 0:
        await _watch_journal(ctx, ws, run_id, wait_seconds)
    return view(state, ws, run_id)


async def _watch_journal(ctx: Ctx, ws: Path, run_id: str, limit: float) -> None:
    """Wait for a run another process drives (``harnessgym run``) by re-reading its journal, with progress."""
    seen = None
    with anyio.move_on_after(limit), library_errors():
        while (info := hg.get_run(ws, run_id)).status == "running":
            if info.updated_at != seen:
                seen = info.updated_at
                await ctx.report_progress(info.current_iteration or 0, info.iterations_planned, info.current_phase)
            await anyio.sleep(_JOURNAL_POLL_SECONDS)


async def list_runs(ctx: Ctx, workspace: Workspace = None) -> RunList:
    """Every run in one workspace, or in every workspace this server knows (its roots and the workspaces it has
    run in) when none is named. Runs from before a restart are listed too."""
    state = state_of(ctx)
    workspaces = [state.workspace(workspace)] if workspace is not None else state.known_workspaces()
    runs = []
    with library_errors():
        for ws in workspaces:
            runs.extend(hg.list_runs(ws))
    return RunList(runs=runs, workspaces=workspaces)


async def cancel_run(ctx: Ctx, run_id: RunId, workspace: Workspace = None) -> RunView:
    """Stop a run: the agent is stopped and the run stays resumable (resume_run). A run another process drives
    (``harnessgym run``, another server) is interrupted the way Ctrl-C would."""
    state = state_of(ctx)
    ws = locate(state, run_id, workspace)
    live = state.runs.get(run_id)
    if live is not None and live.running:
        await _stop(state, live)
    elif not await hg.interrupt_run(ws, run_id):
        status = view(state, ws, run_id).run.status
        raise ToolError(f"run {run_id} is not running (status {status}); resume it with resume_run")
    return view(state, ws, run_id)


async def resume_run(ctx: Ctx, run_id: RunId, workspace: Workspace = None) -> StartedRun:
    """Continue an interrupted run in the background after its last completed phase."""
    state = state_of(ctx)
    ws = locate(state, run_id, workspace)
    with library_errors():
        info = hg.get_run(ws, run_id)
    if info.status in ("solved", "not_solved"):
        raise ToolError(
            f"run {run_id} already finished ({info.status}); step it on with start_iteration and this run_id, or "
            "start a new run"
        )

    async def work(on_event: EventSink) -> object:
        return await hg.resume_async(ws, run_id, on_event=on_event)

    await _launch(state, run_id, ws, work)
    return StartedRun(run_id=run_id, workspace=ws, summary_uri=summary_uri(run_id))


_STEP_OPTIONS = ("runner", "runner_options", "verify_command", "score_key", "attempt_timeout", "build_timeout",
                 "build_after_solve")  # fmt: skip
"""The options of a new one-iteration run that start_iteration takes (a stepped run keeps its own)."""


@tool_options(RunConfig, only=_STEP_OPTIONS, path_note=PATH_NOTE)
async def start_iteration(
    ctx: Ctx,
    workspace: Workspace = None,
    run_id: Annotated[
        str | None,
        Field(description="Step this run: its next iteration, numbered on from its last, with the run's own "
              "options. Omit to start a new one-iteration run from the options below."),
    ] = None,
    task_file: TaskFile = None,
    task_text: TaskText = None,
    allow_solved: Annotated[
        bool, Field(description="With run_id: step on although the run already solved the task.")
    ] = False,
    **options: Any,
) -> IterationView:
    """Run one iteration (attempt, verify, reflection, build, qualification) and wait for it, sending progress
    notifications: with run_id the next iteration of that run, else a new one-iteration run. What it qualifies
    is active for the next iteration; step on with the returned run_id."""
    state = state_of(ctx)
    work: Work
    if run_id is None:
        ws = state.workspace(workspace)
        fields = {"workspace": ws, "iterations": 1, **task_of(state, task_file, task_text)}
        config = config_of(state, RunConfig, fields, options)
        run_id, work = config.run_id, _start(config)
    else:
        named = {"task_file": task_file, "task_text": task_text, **options}
        given = [name for name, value in named.items() if value is not None]
        if given:
            raise ToolError(
                f"run {run_id} steps on with its own options; drop {', '.join(given)}, or omit run_id to start a "
                "new run"
            )
        ws = locate(state, run_id, workspace)
        work = _continue(ws, run_id, allow_solved)
    live = await _launch(state, run_id, ws, work)
    try:
        await wait_with_progress(ctx, live, float("inf"))
    finally:
        if live.running:  # the client gave up on the call: stop the iteration with it
            with anyio.CancelScope(shield=True):
                await state.runs.cancel(live)
    layout = Layout(ws)
    summary = store.read_summary(layout, run_id)
    last = max((i.iteration for i in summary.iterations), default=None) if summary is not None else None
    return IterationView(
        run_id=run_id,
        workspace=ws,
        summary=summary,
        iteration=store.read_iteration(layout, run_id, last) if last is not None else None,
        error=live.error,
    )


RUN_TOOLS = (start_run, get_run, list_runs, cancel_run, resume_run, start_iteration)
