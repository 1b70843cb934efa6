"""Tools that start, follow and stop a plain-against-harnessed comparison (``harnessgym compare``).

A comparison goes on in a detached job worker the library starts (:mod:`harnessgym.jobs`), so it outlives the
client and this server. Its files are the record: every ``trial.json`` as its trial ends,
``compare_report.json`` at the end (also when cancelled), and the job's progress events; so a comparison this
server did not start, or one from before a restart, reads the same (:func:`harnessgym.get_compare`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

import harnessgym as hg
from harnessgym.compare import check_compare
from harnessgym.compare.models import CompareConfig, OutputLayout, TrialKey, TrialRecord
from harnessgym.compare.render import trial_line
from harnessgym.errors import CompareNotFoundError, NotRunningError
from harnessgym.jobs import JOBS, CompareInfo, CompareJob, JobRecord
from harnessgym.jobs.compares import planned_count
from harnessgym.options import tool_options
from harnessgym.serve._common import HEARTBEAT_SECONDS, PATH_NOTE, config_of, library_errors, state_of, task_of
from harnessgym.serve._models import CompareView, StartedCompare
from harnessgym.serve._roots import resolve_inside
from harnessgym.serve._state import ControlState, Ctx

__all__ = ["COMPARE_TOOLS"]

_MAX_WAIT_SECONDS = 600.0
_DISK_POLL_SECONDS = 1.0
_START_CONFIRM_SECONDS = 15.0
"""How long start_compare waits for the first trial to start, so a refusal (no active artifact, earlier trials
without overwrite) is reported by start_compare itself."""

CompareId = Annotated[
    str,
    Field(description="The comparison's output folder: the compare_id start_compare returned (absolute), or a "
          "path relative to the first allowed root."),
]  # fmt: skip


def _inside(state: ControlState, given: str, what: str) -> Path:
    return resolve_inside(state.roots, given, what=what)


@tool_options(CompareConfig, path_note=PATH_NOTE)
async def start_compare(
    ctx: Ctx,
    task_file: Annotated[
        str | None,
        Field(description="A task file under an allowed root; one inside the template is read from each trial's copy."),
    ] = None,
    task_text: Annotated[str | None, Field(description="The task itself, instead of task_file.")] = None,
    **options: Any,
) -> StartedCompare:
    """Start a comparison in the background and return its compare_id once its first trial runs: plain and
    harnessed attempt-only trials, interleaved in a seeded random order, each from a fresh copy of the template;
    only harnessgym's own verify (or post) command decides "solved". It goes on if this client disconnects;
    follow it with get_compare (wait_seconds waits, with progress) for the verdict, stop it with cancel_compare.
    The output_dir becomes the compare_id."""
    state = state_of(ctx)
    suite = options.get("suite") is not None and task_file is None and task_text is None
    config = config_of(state, CompareConfig, {} if suite else task_of(state, task_file, task_text), options)
    if config.suite is not None:  # what the suite names must lie inside the allowed roots too
        with library_errors():
            tasks = config.tasks()
        for spec in tasks:
            _inside(state, str(spec.workspace_template), f"task {spec.name!r}'s workspace_template")
            if spec.artifact_source is not None:
                _inside(state, str(spec.artifact_source), f"task {spec.name!r}'s artifact_source")
    out = config.output_dir
    existing = JOBS.latest(out, "compare")
    if existing is not None and JOBS.is_alive(existing):
        raise ToolError(f"a comparison is already running in {out}; follow it with get_compare or stop it with "
                        "cancel_compare")  # fmt: skip
    with library_errors():  # what the library would refuse, refused before anything starts
        check_compare(config)
    job = JOBS.start(CompareJob(config=config))
    state.watch(job)
    job = await JOBS.wait_started(job, _START_CONFIRM_SECONDS)
    if job.failure is not None:
        verb = "start" if job.refused or not job.outcome else "go on"
        raise ToolError(f"the comparison in {out} could not {verb}: {job.failure}")
    return StartedCompare(
        compare_id=str(out),
        output_dir=out,
        report_path=OutputLayout(out).report,
        trials_planned=planned_count(config) or 0,
    )


async def get_compare(
    ctx: Ctx,
    compare_id: CompareId,
    wait_seconds: Annotated[
        float,
        Field(
            ge=0, le=_MAX_WAIT_SECONDS, description="Wait up to this long for the comparison to end, sending progress."
        ),
    ] = 0,
) -> CompareView:
    """A comparison's status, its trials so far (one line each: solved or not, time, score, active artifacts,
    MCP calls) and, once it ended, the verdict (outcome, p, headline, notes) with each group's solve rate and
    the tests. Works for comparisons this server did not start (read from their output folder)."""
    state = state_of(ctx)
    out = _inside(state, compare_id, "compare_id")
    info = _info(out)
    if wait_seconds > 0 and info.job is not None and info.live:
        await _follow(ctx, info.job, wait_seconds)
    elif wait_seconds > 0 and info.status == "running":
        await _watch_disk(ctx, out, wait_seconds)
    return _view(_info(out))


async def cancel_compare(ctx: Ctx, compare_id: CompareId) -> CompareView:
    """Stop a comparison started with start_compare (by this server or another): the running trial's agent is
    stopped and an 'interrupted' report of the finished trials is written (its verdict covers only those).
    Start it again with start_compare and overwrite=true."""
    state = state_of(ctx)
    out = _inside(state, compare_id, "compare_id")
    try:
        info = await hg.cancel_compare_async(out)
    except NotRunningError as exc:
        elsewhere = f" process {exc.holder_pid} is running it: stop that process (SIGINT or SIGTERM on " \
            "`harnessgym compare` writes an interrupted report);" if exc.holder_pid is not None else ""  # fmt: skip
        raise ToolError(f"the comparison in {out} is not running (status {exc.status});{elsewhere} start a new "
                        "one with start_compare") from exc  # fmt: skip
    except CompareNotFoundError as exc:
        raise ToolError(f"{exc}; check the compare_id, or start one with start_compare") from exc
    if info.status == "running":
        raise ToolError(f"the comparison in {out} is still stopping its agent; call get_compare in a moment")
    return _view(info)


async def _follow(ctx: Ctx, job: JobRecord, limit: float) -> None:
    """Wait until the comparison's worker ends or ``limit`` seconds pass, relaying each trial's start and end
    and its run's events as progress notifications, and a heartbeat when nothing happened for a while."""
    follower, sent = JOBS.follow(job), 0
    with anyio.move_on_after(limit):
        running = True
        while running:
            running = follower.running  # asked before the read, so what the worker wrote last is read too
            messages = [e.message for e in await follower.next(HEARTBEAT_SECONDS)]
            if not messages and running and follower.running:
                done = len(hg.get_compare(job.folder).trials)
                planned = planned_count(job.spec.config) if job.spec.action == "compare" else None
                total = planned if planned is not None else "?"
                messages = [f"comparison in {job.folder} still running ({done}/{total} trials done)"]
            for message in messages:
                sent += 1
                await ctx.report_progress(sent, None, message)


async def _watch_disk(ctx: Ctx, out: Path, limit: float) -> None:
    """Wait for a comparison another process runs (``harnessgym compare``) until it is no longer running, with
    a progress notification whenever another trial has finished and a heartbeat in between."""
    seen, sent, quiet = -1, 0, 0.0
    with anyio.move_on_after(limit):
        while (info := _info(out)).status == "running" and not info.live:
            if len(info.trials) != seen or quiet >= HEARTBEAT_SECONDS:
                seen, sent, quiet = len(info.trials), sent + 1, 0.0
                await ctx.report_progress(sent, None, f"{seen} of {info.trials_started} started trial(s) finished "
                                          f"in {out}; no report yet")  # fmt: skip
            await anyio.sleep(_DISK_POLL_SECONDS)
            quiet += _DISK_POLL_SECONDS


def _info(out: Path) -> CompareInfo:
    try:
        return hg.get_compare(out)
    except CompareNotFoundError as exc:
        raise ToolError(f"{exc}; check the compare_id, or start one with start_compare") from exc


def _slot(record: TrialRecord) -> tuple[TrialKey, int]:
    return TrialKey(group=record.group, index=record.index), record.position


def _lines(records: list[TrialRecord], total: int | None) -> list[str]:
    lines = [trial_line(*_slot(r), total or 0, r) for r in records]
    return lines if total is not None else [line.replace("/0] ", "/?] ", 1) for line in lines]


_NEXT = {
    "running": "call get_compare again (wait_seconds up to 600 waits for progress) until status is not 'running'; "
    "cancel_compare stops it when a harnessgym job runs it (live)",
    "completed": "act on the verdict; the per-trial records and all tests are in report_path",
    "interrupted": "the verdict covers the finished trials only; start_compare with overwrite=true runs it again",
    "budget_stopped": "the budget was spent: the verdict covers the trials run; the same options with a larger "
    "budget_usd resume it",
    "error": "fix what the error names and start_compare again (overwrite=true replaces the trials kept)",
    "unfinished": "it stopped without a report (its process was killed) and nothing runs it now; start_compare "
    "with overwrite=true runs it again",
}


def _view(info: CompareInfo) -> CompareView:
    report, running = info.report, info.running_trial
    running_line = None
    if running is not None:
        key = TrialKey(group=running.group, index=running.index)
        running_line = trial_line(key, running.position, running.total, None)
    return CompareView(
        compare_id=str(info.output_dir), output_dir=info.output_dir, status=info.status, live=info.live,
        error=info.error,
        trials_finished=len(info.trials), trials_planned=info.trials_planned,
        trials=_lines(info.trials, info.trials_planned), running_trial=running_line, last_event=info.last_event,
        verdict=report.verdict if report is not None else None,
        plain=report.plain if report is not None else None,
        harnessed=report.harnessed if report is not None else None,
        comparison=report.comparison if report is not None else None,
        report_path=OutputLayout(info.output_dir).report, next_step=_NEXT[info.status],
    )  # fmt: skip


COMPARE_TOOLS = (start_compare, get_compare, cancel_compare)
