"""Tools that start, follow and stop a plain-against-harnessed comparison (``harnessgym compare``).

A comparison goes on in the lifespan's task group (its own manager, ``ControlState.compares``, keyed by
``compare:<output dir>``), so a client may disconnect. Its files are the record: every ``trial.json`` as its
trial ends and ``compare_report.json`` at the end (also when cancelled), so a comparison this server did not
start, or one from before a restart, is read from disk. What only this process knows (the trial in progress,
its last event) is kept in ``ControlState.compare_tracking``.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from harnessgym import store
from harnessgym.compare import check_compare, compare_async
from harnessgym.compare.models import GROUPS, CompareConfig, CompareReport, OutputLayout, TrialKey, TrialRecord
from harnessgym.compare.render import trial_line
from harnessgym.errors import HarnessgymError
from harnessgym.events import RunEvent
from harnessgym.records import utcnow
from harnessgym.serve._common import HEARTBEAT_SECONDS, Seconds, state_of, task_of, validation_problems
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
Runner = Annotated[str | None, Field(description="The agent CLI: fake (the default; offline), claude or codex.")]


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


def _as_arguments(message: str) -> str:
    """The library speaks in CLI flags; name this tool's arguments instead (--overwrite -> overwrite=true)."""
    message = re.sub(r"(?<![\w/.-])--no-([a-z][a-z-]*)", lambda m: f"{m[1].replace('-', '_')}=false", message)
    message = re.sub(r"(?<![\w/.-])--overwrite\b", "overwrite=true", message)
    return re.sub(r"(?<![\w/.-])--([a-z][a-z-]*)", lambda m: m[1].replace("-", "_"), message)


def _inside(state: ControlState, given: str, what: str) -> Path:
    return resolve_inside(state.roots, given, what=what)


def _compare_config(state: ControlState, task_file: str | None, task_text: str | None, **fields: Any) -> CompareConfig:
    """A :class:`CompareConfig` from the arguments that were given (``None`` keeps the library's default)."""
    text, path = task_of(state, task_file, task_text)
    given = {"task_text": text, "task_path": path, **fields}
    try:
        return CompareConfig.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise ToolError(f"the comparison options are invalid: {_as_arguments(validation_problems(exc))}") from exc
    except HarnessgymError as exc:
        raise ToolError(_as_arguments(str(exc))) from exc


def _work(config: CompareConfig, tracked: _Compare) -> Work:
    async def work(on_event: EventSink) -> object:
        async def relay(event: RunEvent) -> None:
            await tracked.on_event(event)
            await on_event(event)

        try:
            return await compare_async(config, tracked.on_trial, relay)
        except HarnessgymError as exc:  # deliberate and actionable: recorded for the tools, no traceback
            tracked.error = _as_arguments(str(exc))
            return None

    return work


async def start_compare(
    ctx: Ctx,
    workspace_template: Annotated[
        str, Field(description="The clean starting folder (under an allowed root); every trial gets a fresh copy.")
    ],
    output_dir: Annotated[
        str,
        Field(description="Where the trials and compare_report.json go (under an allowed root, not holding the "
              "template); it becomes the compare_id."),
    ],
    task_file: Annotated[
        str | None,
        Field(description="A task file under an allowed root; one inside the template is read from each trial's "
              "copy."),
    ] = None,
    task_text: Annotated[str | None, Field(description="The task itself, instead of task_file.")] = None,
    artifact_source: Annotated[
        str | None,
        Field(description="A workspace (or its .harnessgym) whose non-quarantined artifacts the harnessed trials "
              "get; default: the template's own, if it has a registry."),
    ] = None,
    trials: Annotated[int | None, Field(gt=0, description="Trials per group (default 3).")] = None,
    iterations: Annotated[int | None, Field(gt=0, description="Attempts per trial (default 1; attempt-only).")] = None,
    runner: Runner = None,
    runner_options: Annotated[
        dict[str, Any] | None, Field(description="Runner settings: claude_model, codex_model, fake_script, ...")
    ] = None,
    attempt_timeout: Seconds = None,
    attempt_timeouts: Annotated[
        list[str | float] | None, Field(description="Per-iteration attempt limits; the last one is reused.")
    ] = None,
    verify_command: Annotated[
        str | None,
        Field(description="A shell command harnessgym runs after each attempt; only its verdict makes a trial "
              "solved. Give it or post_command."),
    ] = None,
    verify_timeout: Seconds = None,
    verify_pass_env: Annotated[
        list[str] | None,
        Field(description="Secret-named variables (keys, tokens) the verify and post commands still get; they "
              "get no other."),
    ] = None,
    post_command: Annotated[
        str | None,
        Field(description="A shell command run once on each trial's final workspace; its JSON score is compared "
              "between the groups (without verify_command, its passing makes a trial solved)."),
    ] = None,
    post_score_key: Annotated[
        str | None, Field(description="Where the post score is in its JSON; default: score_key.")
    ] = None,
    post_timeout: Seconds = None,
    score_key: Annotated[
        str | None, Field(description="Where the score is in the verify JSON (default 'score').")
    ] = None,
    stop_score: Annotated[
        float | None, Field(description="A trial also counts as solved once its score reaches this.")
    ] = None,
    higher_is_better: bool | None = None,
    task_state: Literal["continue", "reset"] | None = None,
    require_active_harness: Annotated[
        bool | None,
        Field(description="A harnessed trial with no active artifact is invalid (default true; false allows a "
              "plain-against-plain comparison)."),
    ] = None,
    require_harness_tool_use: Annotated[
        bool | None, Field(description="A harnessed trial without an MCP tool call is invalid (default false).")
    ] = None,
    overwrite: Annotated[
        bool | None, Field(description="Replace the trials of an earlier comparison in output_dir.")
    ] = None,
    seed: Annotated[int | None, Field(description="Seeds the trial order and the bootstrap (default 0).")] = None,
    alpha: Annotated[float | None, Field(gt=0, lt=1, description="Significance level (default 0.05).")] = None,
) -> StartedCompare:
    """Start a comparison in the background and return its compare_id once its first trial runs: plain and
    harnessed attempt-only trials, interleaved in a seeded random order, each from a fresh copy of the template;
    only harnessgym's own verify (or post) command decides "solved". It goes on if this client disconnects;
    follow it with get_compare (wait_seconds waits, with progress) for the verdict, stop it with cancel_compare."""
    state = state_of(ctx)
    out = _inside(state, output_dir, "output_dir")
    config = _compare_config(
        state, task_file, task_text, workspace_template=_inside(state, workspace_template, "workspace_template"),
        output_dir=out, artifact_source=_inside(state, artifact_source, "artifact_source") if artifact_source else None,
        trials=trials, iterations=iterations, runner=runner, runner_options=runner_options,
        attempt_timeout=attempt_timeout, attempt_timeouts=attempt_timeouts, verify_command=verify_command,
        verify_timeout=verify_timeout, verify_pass_env=verify_pass_env, post_command=post_command,
        post_score_key=post_score_key, post_timeout=post_timeout, score_key=score_key, stop_score=stop_score,
        higher_is_better=higher_is_better,
        task_state=task_state, require_active_harness=require_active_harness,
        require_harness_tool_use=require_harness_tool_use, overwrite=overwrite, seed=seed, alpha=alpha,
    )  # fmt: skip
    existing = state.compares.get(_key(out))
    if existing is not None and existing.running:
        raise ToolError(f"a comparison is already running in {out}; follow it with get_compare or stop it with "
                        "cancel_compare")  # fmt: skip
    try:  # what the library would refuse, refused before anything starts
        check_compare(config)
    except HarnessgymError as exc:
        raise ToolError(_as_arguments(str(exc))) from exc
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
