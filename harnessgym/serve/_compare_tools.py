"""Tools that start, follow and stop a plain-against-harnessed comparison (``harnessgym compare``).

A comparison goes on in the lifespan's task group (its own manager, ``ControlState.compares``, keyed by
``compare:<output dir>``), so a client may disconnect. Its files are the record: every ``trial.json`` as its
trial ends and ``compare_report.json`` at the end (also when cancelled), so a comparison this server did not
start, or one from before a restart, is read from disk. What only this process knows (the trial in progress,
its last event) is kept in ``ControlState.compare_tracking``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from harnessgym import store
from harnessgym.compare import check_compare, compare_async
from harnessgym.compare.models import GROUPS, CompareConfig, CompareReport, OutputLayout, TrialKey, TrialRecord
from harnessgym.compare.render import trial_line
from harnessgym.errors import HarnessgymError
from harnessgym.events import RunEvent
from harnessgym.options import tool_options
from harnessgym.records import utcnow
from harnessgym.serve._common import (
    HEARTBEAT_SECONDS,
    PATH_NOTE,
    config_of,
    library_errors,
    state_of,
    task_of,
    tool_error,
)
from harnessgym.serve._models import CompareStatus, CompareView, StartedCompare
from harnessgym.serve._roots import resolve_inside
from harnessgym.serve._runs import EventSink, LiveRun, Work
from harnessgym.serve._state import ControlState, Ctx
from harnessgym.store.layout import Layout

__all__ = ["COMPARE_TOOLS"]

_MAX_WAIT_SECONDS = 600.0
_DISK_POLL_SECONDS = 1.0
_KEPT_MESSAGES = 100
_START_CONFIRM_SECONDS = 15.0
"""How long start_compare waits for the first trial to start, so a refusal (no active artifact, earlier trials
without overwrite) is reported by start_compare itself."""

CompareId = Annotated[
    str,
    Field(description="The comparison's output folder: the compare_id start_compare returned (absolute), or a "
          "path relative to the first allowed root."),
]  # fmt: skip


@dataclass
class _Compare:
    """What this process knows about one comparison it started, beyond its files."""

    output_dir: Path
    total: int
    started_at: datetime = field(default_factory=utcnow)
    live: LiveRun | None = None
    records: list[TrialRecord] = field(default_factory=list)
    """Finished trials, in run order."""
    current: tuple[TrialKey, int] | None = None
    """The trial in progress and its position."""
    started: bool = False
    """The first trial started: the library's up-front checks passed."""
    refused: bool = False
    """start_compare reported why it could not start; the files on disk (if any) are an earlier comparison's."""
    error: str | None = None
    """A deliberate library error that stopped it (the message already says what to do)."""
    messages: deque[str] = field(default_factory=lambda: deque(maxlen=_KEPT_MESSAGES))
    """The latest progress lines, in order: trials starting and ending, and their runs' events."""
    message_count: int = 0

    def say(self, message: str) -> None:
        self.messages.append(message)
        self.message_count += 1
        if self.live is not None:
            self.live.notify()

    def on_trial(self, key: TrialKey, position: int, total: int, record: TrialRecord | None) -> None:
        self.started, self.total = True, total
        if record is None:
            self.current = (key, position)
        else:
            self.records.append(record)
            self.current = None
        self.say(trial_line(key, position, total, record))

    async def on_event(self, event: RunEvent) -> None:
        head = self.running_line() or "comparison: running"
        self.say(f"{head.removesuffix(': running')}: {event.message}")

    def running_line(self) -> str | None:
        return trial_line(self.current[0], self.current[1], self.total, None) if self.current is not None else None


def _key(out: Path) -> str:
    return f"compare:{out}"


def _tracked(state: ControlState) -> dict[str, _Compare]:
    tracking: dict[str, _Compare] = state.compare_tracking
    return tracking


def _live(state: ControlState, out: Path) -> _Compare | None:
    """This server's comparison in ``out``, unless start_compare refused it (then the disk tells)."""
    tracked = _tracked(state).get(_key(out))
    if tracked is None or tracked.refused or tracked.live is not state.compares.get(_key(out)):
        return None
    return tracked


def _inside(state: ControlState, given: str, what: str) -> Path:
    return resolve_inside(state.roots, given, what=what)


def _work(config: CompareConfig, tracked: _Compare) -> Work:
    async def work(on_event: EventSink) -> object:
        async def relay(event: RunEvent) -> None:
            await tracked.on_event(event)
            await on_event(event)

        try:
            return await compare_async(config, tracked.on_trial, relay)
        except HarnessgymError as exc:  # deliberate and actionable: recorded for the tools, no traceback
            tracked.error = str(tool_error(exc))
            return None

    return work


@tool_options(CompareConfig, path_note=PATH_NOTE)
async def start_compare(
    ctx: Ctx,
    task_file: Annotated[
        str | None,
        Field(description="A task file under an allowed root; one inside the template is read from each trial's "
              "copy."),
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
    config = config_of(state, CompareConfig, task_of(state, task_file, task_text), options)
    out = config.output_dir
    existing = state.compares.get(_key(out))
    if existing is not None and existing.running:
        raise ToolError(f"a comparison is already running in {out}; follow it with get_compare or stop it with "
                        "cancel_compare")  # fmt: skip
    with library_errors():  # what the library would refuse, refused before anything starts
        check_compare(config)
    tracked = _Compare(output_dir=out, total=2 * config.trials)
    _tracked(state)[_key(out)] = tracked
    live = tracked.live = state.compares.launch(_key(out), out, _work(config, tracked))
    with anyio.move_on_after(_START_CONFIRM_SECONDS):
        while live.running and not tracked.started:
            await live.wait_change(_START_CONFIRM_SECONDS)
    error = tracked.error or live.error
    if error is not None:
        tracked.refused = not tracked.started
        raise ToolError(f"the comparison in {out} could not {'start' if tracked.refused else 'go on'}: {error}")
    return StartedCompare(
        compare_id=str(out), output_dir=out, report_path=OutputLayout(out).report, trials_planned=tracked.total
    )


async def get_compare(
    ctx: Ctx,
    compare_id: CompareId,
    wait_seconds: Annotated[
        float,
        Field(ge=0, le=_MAX_WAIT_SECONDS, description="Wait up to this long for the comparison to end, sending "
              "progress."),
    ] = 0,
) -> CompareView:
    """A comparison's status, its trials so far (one line each: solved or not, time, score, active artifacts,
    MCP calls) and, once it ended, the verdict (outcome, p, headline, notes) with each group's solve rate and
    the tests. Works for comparisons this server did not start (read from their output folder)."""
    state = state_of(ctx)
    out = _inside(state, compare_id, "compare_id")
    tracked = _live(state, out)
    if wait_seconds > 0 and tracked is not None and tracked.live is not None:
        await _follow(ctx, tracked, tracked.live, wait_seconds)
    elif wait_seconds > 0:
        await _watch_disk(ctx, out, wait_seconds)
    return _view(state, out)


async def cancel_compare(ctx: Ctx, compare_id: CompareId) -> CompareView:
    """Stop a comparison this server is running: the running trial's agent is stopped and an 'interrupted'
    report of the finished trials is written (its verdict covers only those). Start it again with
    start_compare and overwrite=true."""
    state = state_of(ctx)
    out = _inside(state, compare_id, "compare_id")
    tracked = _live(state, out)
    live = tracked.live if tracked is not None else None
    if live is None or not live.running:
        status = _view(state, out).status
        holder = store.lock_holder(Layout(out))
        elsewhere = f" process {holder[0]} is running it: stop that process (SIGINT or SIGTERM on `harnessgym " \
            "compare` writes an interrupted report);" if holder is not None else ""  # fmt: skip
        raise ToolError(f"the comparison in {out} is not running in this server (status {status});{elsewhere} "
                        "start a new one with start_compare")  # fmt: skip
    if not await state.compares.cancel(live):
        raise ToolError(f"the comparison in {out} is still stopping its agent; call get_compare in a moment")
    return _view(state, out)


async def _follow(ctx: Ctx, tracked: _Compare, live: LiveRun, limit: float) -> None:
    """Wait until the comparison ends or ``limit`` seconds pass, relaying each trial's start and end and its
    run's events as progress notifications, and a heartbeat when nothing happened for a while."""
    seen, sent = tracked.message_count, 0
    with anyio.move_on_after(limit):
        while live.running:
            await live.wait_change(HEARTBEAT_SECONDS)
            new, seen = tracked.message_count - seen, tracked.message_count
            fresh = list(tracked.messages)[-new:] if new else []
            if not fresh and live.running:
                done = len(tracked.records)
                fresh = [f"comparison in {tracked.output_dir} still running ({done}/{tracked.total} trials done)"]
            for message in fresh:
                sent += 1
                await ctx.report_progress(sent, None, message)


async def _watch_disk(ctx: Ctx, out: Path, limit: float) -> None:
    """Wait for a comparison another process runs (``harnessgym compare``) until its report appears, with a
    progress notification whenever another trial has finished and a heartbeat in between."""
    layout, seen, sent, quiet = OutputLayout(out), -1, 0, 0.0
    with anyio.move_on_after(limit):
        while not layout.report.exists():
            records, started = _disk_trials(layout)
            if not started or not store.lock_is_held(Layout(out)):
                return  # no comparison there, or nothing runs it any more: the view says so
            if len(records) != seen or quiet >= HEARTBEAT_SECONDS:
                seen, sent, quiet = len(records), sent + 1, 0.0
                await ctx.report_progress(sent, None, f"{seen} of {started} started trial(s) finished in {out}; "
                                          "no report yet")  # fmt: skip
            await anyio.sleep(_DISK_POLL_SECONDS)
            quiet += _DISK_POLL_SECONDS


def _slot(record: TrialRecord) -> tuple[TrialKey, int]:
    return TrialKey(group=record.group, index=record.index), record.position


def _lines(records: list[TrialRecord], total: int | None) -> list[str]:
    lines = [trial_line(*_slot(r), total or 0, r) for r in records]
    return lines if total is not None else [line.replace("/0] ", "/?] ", 1) for line in lines]


def _disk_trials(layout: OutputLayout) -> tuple[list[TrialRecord], int]:
    """Every readable ``trial.json`` under the output folder, in run order, and how many trial folders exist
    (a trial's folder is there from its start)."""
    found, started = [], 0
    for group in GROUPS:
        for trial_dir in sorted(layout.group_dir(group).glob("trial_*")):
            started += 1
            record = store.read_model(trial_dir / "trial.json", TrialRecord)
            if record is not None:
                found.append(record)
    return sorted(found, key=lambda r: (r.position, r.group, r.index)), started


_NEXT = {
    "running": "call get_compare again (wait_seconds up to 600 waits for progress) until status is not 'running'; "
    "cancel_compare stops it when this server runs it (live)",
    "completed": "act on the verdict; the per-trial records and all tests are in report_path",
    "interrupted": "the verdict covers the finished trials only; start_compare with overwrite=true runs it again",
    "error": "fix what the error names and start_compare again (overwrite=true replaces the trials kept)",
    "unfinished": "it stopped without a report (its process was killed) and nothing runs it now; start_compare "
    "with overwrite=true runs it again",
}


def _view(state: ControlState, out: Path) -> CompareView:
    layout = OutputLayout(out)
    tracked = _live(state, out)
    live = tracked.live if tracked is not None else None
    report: CompareReport | None = None
    status: CompareStatus
    error: str | None = None
    if tracked is not None and live is not None:
        error = tracked.error or live.error
        records, total = tracked.records, tracked.total
        if live.running:
            status = "running"
        elif error is not None:
            status = "error"
        else:
            report = store.read_model(layout.report, CompareReport)
            if report is not None and report.created_at < tracked.started_at:
                report = None  # an earlier comparison's: this one stopped before it wrote its own
            status = report.status if report is not None else "interrupted"
    else:
        report = store.read_model(layout.report, CompareReport)
        (records, started), total = _disk_trials(layout), None
        if report is not None:
            status = report.status
        elif layout.report.exists():
            status, error = "error", f"{layout.report} exists but cannot be read as a comparison report"
        elif started and store.lock_is_held(Layout(out)):
            status = "running"  # by another process (``harnessgym compare``, another server): it holds the lock
        elif started:
            status = "unfinished"
        else:
            raise ToolError(f"no comparison in {out}: it holds neither compare_report.json nor trials; check the "
                            "compare_id, or start one with start_compare")  # fmt: skip
    if report is not None:
        records, total = report.trials, len(report.order)
    running = live is not None and live.running
    event = live.last_event if running and live is not None else None
    return CompareView(
        compare_id=str(out), output_dir=out, status=status, live=running, error=error,
        trials_finished=len(records), trials_planned=total, trials=_lines(records, total),
        running_trial=tracked.running_line() if running and tracked is not None else None,
        last_event=event.message if event is not None else None,
        verdict=report.verdict if report is not None else None,
        plain=report.plain if report is not None else None,
        harnessed=report.harnessed if report is not None else None,
        comparison=report.comparison if report is not None else None,
        report_path=layout.report, next_step=_NEXT[status],
    )  # fmt: skip


COMPARE_TOOLS = (start_compare, get_compare, cancel_compare)
