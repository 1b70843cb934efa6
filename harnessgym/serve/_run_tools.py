"""Tools that start, follow, stop and resume runs, and step single iterations.

Runs go on in the lifespan's task group, so a client may disconnect; the journal on disk is the record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

import harnessgym as hg
from harnessgym import store
from harnessgym.config import RunConfig
from harnessgym.errors import RunNotFoundError
from harnessgym.serve._common import (
    RunId,
    Seconds,
    Workspace,
    library_errors,
    locate,
    run_config,
    state_of,
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
Runner = Annotated[str, Field(description="The agent CLI: fake (offline, for trying things out), claude or codex.")]
MaybeRunner = Annotated[str | None, Field(description="The agent CLI: fake (the default; offline), claude or codex.")]
Verify = Annotated[
    str | None, Field(description="A shell command run in the workspace after each attempt; its verdict decides.")
]
PassEnv = Annotated[
    list[str] | None,
    Field(description="Secret-named variables (keys, tokens) the verify and post commands still get; they get "
          "no other, since what they run is mostly the agent's code."),
]  # fmt: skip


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


async def start_run(
    ctx: Ctx,
    workspace: Workspace = None,
    task_file: TaskFile = None,
    task_text: TaskText = None,
    runner: Runner = "fake",
    iterations: Annotated[int | None, Field(gt=0, description="At most this many iterations (default 3).")] = None,
    verify_command: Verify = None,
    verify_pass_env: PassEnv = None,
    score_key: Annotated[str | None, Field(description="Where the score is in the verify JSON.")] = None,
    stop_score: Annotated[float | None, Field(description="Stop once the score reaches this.")] = None,
    higher_is_better: bool | None = None,
    attempt_timeout: Seconds = None,
    build_timeout: Seconds = None,
    reflection_timeout: Seconds = None,
    verify_timeout: Seconds = None,
    task_state: Literal["continue", "reset"] | None = None,
    build_after_solve: bool | None = None,
    qualify_artifacts: bool | None = None,
    artifact_repair_attempts: Annotated[int | None, Field(ge=0)] = None,
    post_attempt_command: Annotated[
        str | None, Field(description="A shell command run after every attempt; its JSON output gives the score.")
    ] = None,
    post_attempt_score_key: Annotated[str | None, Field(description="Default: score_key.")] = None,
    post_attempt_timeout: Seconds = None,
    optimization_mode: Annotated[
        bool | None, Field(description="Improve a measured score: baseline first, solved = stop_score reached.")
    ] = None,
    restore_best: Annotated[
        bool | None, Field(description="Optimization mode: put the best workspace back at the end (default on).")
    ] = None,
    harness_depth: Literal["standard", "deep"] | None = None,
    runner_options: Annotated[
        dict[str, Any] | None, Field(description="Runner settings: claude_model, codex_model, fake_script, ...")
    ] = None,
    run_id: Annotated[str | None, Field(description="A run id to use; default: a new timestamped one.")] = None,
) -> StartedRun:
    """Start a harnessgym run in the background and return its id at once. The run goes on if this client
    disconnects; follow it with get_run (wait_seconds waits for progress), stop it with cancel_run, continue an
    interrupted one with resume_run."""
    state = state_of(ctx)
    ws = state.workspace(workspace)
    config = run_config(
        state, ws, task_file, task_text, runner=runner, iterations=iterations, verify_command=verify_command,
        verify_pass_env=verify_pass_env,
        score_key=score_key, stop_score=stop_score, higher_is_better=higher_is_better,
        attempt_timeout=attempt_timeout, build_timeout=build_timeout, reflection_timeout=reflection_timeout,
        verify_timeout=verify_timeout, task_state=task_state, build_after_solve=build_after_solve,
        qualify_artifacts=qualify_artifacts, artifact_repair_attempts=artifact_repair_attempts,
        post_attempt_command=post_attempt_command, post_attempt_score_key=post_attempt_score_key,
        post_attempt_timeout=post_attempt_timeout, optimization_mode=optimization_mode, restore_best=restore_best,
        harness_depth=harness_depth, runner_options=runner_options, run_id=run_id,
    )  # fmt: skip
    if run_id is not None and _exists(ws, run_id):
        raise ToolError(f"run id {run_id!r} is already used in {ws}; continue it with resume_run or omit run_id")
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
    runner: MaybeRunner = None,
    verify_command: Verify = None,
    score_key: str | None = None,
    attempt_timeout: Seconds = None,
    build_timeout: Seconds = None,
    build_after_solve: bool | None = None,
    runner_options: dict[str, Any] | None = None,
    allow_solved: Annotated[
        bool, Field(description="With run_id: step on although the run already solved the task.")
    ] = False,
) -> IterationView:
    """Run one iteration (attempt, verify, reflection, build, qualification) and wait for it, sending progress
    notifications: with run_id the next iteration of that run, else a new one-iteration run. What it qualifies
    is active for the next iteration; step on with the returned run_id."""
    state = state_of(ctx)
    options = {
        "runner": runner, "verify_command": verify_command, "score_key": score_key,
        "attempt_timeout": attempt_timeout, "build_timeout": build_timeout, "build_after_solve": build_after_solve,
        "runner_options": runner_options,
    }  # fmt: skip
    work: Work
    if run_id is None:
        ws = state.workspace(workspace)
        config = run_config(state, ws, task_file, task_text, iterations=1, **options)
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
