"""Tools that start, follow, stop and resume runs, and step single iterations.

Each run goes on in a detached job worker the library starts (:mod:`harnessgym.jobs`), so it outlives the
client and this server; the journal and the job's events on disk are the record, read by any later server.
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
from harnessgym.errors import NotRunningError, RunNotFoundError
from harnessgym.jobs import JOBS, ContinueJob, JobRecord, JobSpec, ResumeJob, RunJob
from harnessgym.options import tool_options
from harnessgym.serve._common import (
    PATH_NOTE,
    RunId,
    Workspace,
    config_of,
    library_errors,
    locate,
    run_job,
    state_of,
    task_of,
    view,
    wait_with_progress,
)
from harnessgym.serve._models import IterationView, RunList, RunView, StartedRun, summary_uri
from harnessgym.serve._state import ControlState, Ctx
from harnessgym.store.layout import Layout

__all__ = ["RUN_TOOLS"]

_MAX_WAIT_SECONDS = 600.0
_JOURNAL_POLL_SECONDS = 1.0
_START_CONFIRM_SECONDS = 15.0
"""How long start_run waits for the run's first event, so a refusal (a locked workspace) is reported at once."""

TaskFile = Annotated[str | None, Field(description="A task file (e.g. task.md) under an allowed root.")]
TaskText = Annotated[str | None, Field(description="The task itself, instead of task_file.")]


async def _launch(state: ControlState, run_id: str, ws: Path, spec: JobSpec) -> JobRecord:
    """Start ``spec`` in a job worker and wait briefly for its first event or its failure."""
    existing = run_job(ws, run_id)
    if existing is not None and JOBS.is_alive(existing):
        raise ToolError(f"run {run_id} is already running; follow it with get_run")
    if store.lock_is_held(Layout(ws)):
        raise ToolError(f"workspace {ws} is in use by another harnessgym run; wait for it, cancel it, or use another")
    state.remember(ws)
    job = JOBS.start(spec)
    state.watch(job)
    job = await JOBS.wait_started(job, _START_CONFIRM_SECONDS)
    if job.failure is not None:
        raise ToolError(f"run {run_id} could not start: {job.failure}")
    return job


def _exists(ws: Path, run_id: str) -> bool:
    try:
        hg.get_run(ws, run_id)
    except RunNotFoundError:
        return False
    return True


async def _stop(job: JobRecord) -> None:
    """Stop the job (shielded: a client giving up must not leave it half stopped)."""
    with anyio.CancelScope(shield=True):
        await JOBS.cancel(job)


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
    await _launch(state, config.run_id, ws, RunJob(config=config))
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
    job = run_job(ws, run_id)
    if wait_seconds > 0 and job is not None and JOBS.is_alive(job):
        await wait_with_progress(ctx, job, wait_seconds)
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
    try:
        info = await hg.cancel_run_async(ws, run_id)
    except NotRunningError as exc:
        raise ToolError(f"run {run_id} is not running (status {exc.status}); resume it with resume_run") from exc
    except hg.HarnessgymError as exc:
        raise ToolError(str(exc)) from exc
    if info.status == "running":
        raise ToolError(f"run {run_id} is still stopping its agent; call get_run in a moment to see it end")
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
    await _launch(state, run_id, ws, ResumeJob(workspace=ws, run_id=run_id))
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
        Field(
            description="Step this run: its next iteration, numbered on from its last, with the run's own "
            "options. Omit to start a new one-iteration run from the options below."
        ),
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
    spec: JobSpec
    if run_id is None:
        ws = state.workspace(workspace)
        fields = {"workspace": ws, "iterations": 1, **task_of(state, task_file, task_text)}
        config = config_of(state, RunConfig, fields, options)
        run_id, spec = config.run_id, RunJob(config=config)
    else:
        named = {"task_file": task_file, "task_text": task_text, **options}
        given = [name for name, value in named.items() if value is not None]
        if given:
            raise ToolError(
                f"run {run_id} steps on with its own options; drop {', '.join(given)}, or omit run_id to start a "
                "new run"
            )
        ws = locate(state, run_id, workspace)
        spec = ContinueJob(workspace=ws, run_id=run_id, allow_solved=allow_solved)
    job = await _launch(state, run_id, ws, spec)
    try:
        await wait_with_progress(ctx, job, float("inf"))
    finally:
        if JOBS.is_alive(job):  # the client gave up on the call: stop the iteration with it
            await _stop(job)
    job = await JOBS.wait(job, _START_CONFIRM_SECONDS)
    layout = Layout(ws)
    summary = store.read_summary(layout, run_id)
    last = max((i.iteration for i in summary.iterations), default=None) if summary is not None else None
    return IterationView(
        run_id=run_id,
        workspace=ws,
        summary=summary,
        iteration=store.read_iteration(layout, run_id, last) if last is not None else None,
        error=job.failure,
    )


RUN_TOOLS = (start_run, get_run, list_runs, cancel_run, resume_run, start_iteration)
