"""What every control tool shares: argument types, error conversion, run views and progress relaying."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

import harnessgym as hg
from harnessgym.errors import ConfigError, HarnessgymError, python_spelling
from harnessgym.jobs import JOBS, JobRecord
from harnessgym.serve._models import RunView, summary_uri
from harnessgym.serve._roots import resolve_inside
from harnessgym.serve._state import ControlState, Ctx

__all__ = [
    "HEARTBEAT_SECONDS",
    "PATH_NOTE",
    "RunId",
    "Seconds",
    "Workspace",
    "config_of",
    "library_errors",
    "locate",
    "run_job",
    "seconds",
    "state_of",
    "task_of",
    "tool_error",
    "tool_spelling",
    "view",
    "wait_with_progress",
    "with_heartbeat",
]

_RECENT_EVENTS = 10
HEARTBEAT_SECONDS = 5.0
"""How often a waiting tool tells the client it is still alive."""
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
PATH_NOTE = "A path under an allowed root (absolute, or relative to the first)."

Workspace = Annotated[
    str | None,
    Field(description="The workspace folder (absolute, or relative to the first allowed root); default: that root."),
]
RunId = Annotated[str, Field(description="The run id, as start_run or list_runs returned it.")]
Seconds = Annotated[str | float | None, Field(description="A duration: seconds, or text like '90s', '45m', '1h30m'.")]


_TOOL_NAMES = {"task_path": "task_file"}
"""Fields the tools take under another name (the task is read from ``task_file``)."""


def tool_spelling(field: str, value: str | None) -> str:
    """How a tool argument is written: its name, ``name=value`` with a value (``overwrite=true``)."""
    return python_spelling(_TOOL_NAMES.get(field, field), value)


def tool_error(exc: HarnessgymError) -> ToolError:
    """The one place a library error becomes a tool error: a :class:`ConfigError` names the arguments."""
    return ToolError(exc.render(tool_spelling) if isinstance(exc, ConfigError) else str(exc))


@contextmanager
def library_errors() -> Iterator[None]:
    """The library's deliberate errors already say what to do; hand them to the model in its spelling."""
    try:
        yield
    except HarnessgymError as exc:
        raise tool_error(exc) from exc


def state_of(ctx: Ctx) -> ControlState:
    return ctx.request_context.lifespan_context


def locate(state: ControlState, run_id: str, workspace: str | None) -> Path:
    """The workspace holding ``run_id``: the one named, else the only known one that has it."""
    if workspace is not None:
        return state.workspace(workspace)
    found = state.holders(run_id)
    if len(found) == 1:
        return found[0]
    if found:
        raise ToolError(f"run id {run_id!r} is in several workspaces ({', '.join(map(str, found))}); pass workspace")
    where = ", ".join(str(w) for w in state.known_workspaces()) or "none yet"
    raise ToolError(
        f"no run {run_id!r} in the workspaces this server knows ({where}); pass its workspace, or call list_runs"
    )


def run_job(workspace: Path, run_id: str) -> JobRecord | None:
    """The latest job worker that drove the run, if one did."""
    return JOBS.latest(workspace, "run", run_id)


def view(state: ControlState, workspace: Path, run_id: str) -> RunView:
    with library_errors():
        info = hg.get_run(workspace, run_id)
    job = run_job(workspace, run_id)
    events = [e.run_event for e in JOBS.events(job) if e.run_event is not None] if job is not None else []
    events = events[-_RECENT_EVENTS:]
    return RunView(
        run=info,
        live=job is not None and JOBS.is_alive(job),
        last_event=events[-1] if events else None,
        recent_events=events,
        error=job.failure if job is not None else None,
        summary_uri=summary_uri(run_id),
    )


async def wait_with_progress(ctx: Ctx, job: JobRecord, limit: float) -> None:
    """Wait until the job's worker ends or ``limit`` seconds pass, relaying each new event as a progress
    notification, and a heartbeat when nothing happened for a while (long agent phases are silent)."""
    follower, sent = JOBS.follow(job), 0
    with anyio.move_on_after(limit):
        running = True
        while running:
            # Asked before the read: once the worker has ended, one more read takes what it wrote on its way out
            running = follower.running
            events = await follower.next(HEARTBEAT_SECONDS)
            messages = [e.message for e in events]
            if not events and running and follower.running:
                last = follower.last.run_event if follower.last is not None else None
                where = f"iteration {last.iteration}, {last.phase or last.kind}" if last is not None else "starting"
                messages = [f"run {job.key} still running ({where})"]
            for message in messages:
                sent += 1
                await ctx.report_progress(sent, None, message)


async def with_heartbeat(ctx: Ctx, message: str, work: Callable[[], Awaitable[T]]) -> T:
    """Await ``work()`` while sending a progress notification every few seconds, so clients see it is alive."""
    outcome: list[T] = []
    failure: list[Exception] = []

    async def beat() -> None:
        for sent in itertools.count(1):
            await ctx.report_progress(sent, None, f"{message} ({(sent - 1) * HEARTBEAT_SECONDS:g} s)")
            await anyio.sleep(HEARTBEAT_SECONDS)

    async with anyio.create_task_group() as tg:
        tg.start_soon(beat)
        try:
            outcome.append(await work())
        except Exception as exc:  # re-raised below, unwrapped: a task group would wrap it in an ExceptionGroup
            failure.append(exc)
        finally:
            tg.cancel_scope.cancel()
    if failure:
        raise failure[0]
    return outcome[0]


def config_of(state: ControlState, model: type[M], given: dict[str, Any], options: dict[str, Any]) -> M:
    """``model`` from the fields a tool gathered itself (``given``: the workspace, the task) and its generated
    arguments (``options``; ``None`` keeps the default, paths are resolved inside the allowed roots); invalid
    ones become one ToolError naming every argument at fault."""
    from harnessgym.options import build_config, fields_from_tool

    def inside(value: str, name: str) -> Path:
        return resolve_inside(state.roots, value, what=name)

    with library_errors():
        config: M = build_config(model, {**given, **fields_from_tool(model, options, inside)})
    return config


def task_of(state: ControlState, task_file: str | None, task_text: str | None) -> dict[str, Any]:
    """The ``task_text`` and ``task_path`` fields: the text given, or a file's text and resolved path (inside the
    allowed roots)."""
    if (task_file is None) == (task_text is None):
        raise ToolError("pass exactly one of task_file (a file under an allowed root) or task_text")
    if task_text is not None:
        return {"task_text": task_text, "task_path": None}
    path = resolve_inside(state.roots, task_file or "", what="task file")
    try:
        return {"task_text": path.read_text(encoding="utf-8"), "task_path": path}
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"task file {path} cannot be read ({exc}); pass an existing UTF-8 file or task_text") from exc


def seconds(value: str | float | None, default: float) -> float:
    if value is None:
        return default
    with library_errors():
        return hg.parse_duration(value)
