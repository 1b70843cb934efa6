"""Per-call telemetry: one JSON line per ``tools/call`` in ``<workspace>/.harnessgym/mcp_calls.jsonl`` (and per
relayed ``prompts/get`` or ``resources/read``, marked by its ``method``).

Lines carry upstream HarnessGym's fields (never argument values or results, only their sizes and the sorted
argument keys) plus ``run_id``, ``iteration`` and ``phase``. One writer task per process batches lines and
appends them with a single ``write`` on an ``O_APPEND`` descriptor under ``fcntl.flock``, so lines from
concurrent calls, and from other processes (``mcp bridge``, a second host), never interleave or tear.
A line is queued as its answer leaves (before it, or right after it with no await between, on the host's
reader-callback fast path) and written in the next batch; for ``harnessgym mcp call``
clients (the host's unix socket) it is written before the answer leaves, since such a client exits on the
answer and its on-demand daemon may be killed right after.

:func:`summarize_calls` reads the file leniently (a torn or foreign line is skipped).
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.abc
from pydantic import BaseModel, ConfigDict, ValidationError

from mcp_host._paths import calls_path

__all__ = [
    "CallRecord",
    "CallStatus",
    "CallSummary",
    "CallTail",
    "RunTag",
    "TelemetryWriter",
    "calls_offset",
    "summarize_calls",
]

log = logging.getLogger(__name__)

_MAX_LINE = 1 << 20
"""A line of ours is a few hundred bytes (argument keys, never values); a longer one is skipped unread."""

CallStatus = Literal["completed", "error", "timeout"]


class RunTag(BaseModel):
    """Which run, iteration and phase calls belong to (given to the host by whoever starts it)."""

    model_config = ConfigDict(frozen=True)

    run_id: str | None = None
    """The harnessgym run id, or None outside a run."""
    iteration: int | None = None
    """The iteration number within the run."""
    phase: str | None = None
    """The phase (attempt, reflection, build, ...)."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> RunTag:
        from mcp_host._serve.quickcall import run_tag_from_env

        return cls(**run_tag_from_env(environ))


class CallRecord(BaseModel):
    """One line of ``mcp_calls.jsonl``."""

    model_config = ConfigDict(extra="ignore")

    created_at: str
    """When the call started, ISO 8601 UTC with ``Z``."""
    server: str
    """The server's name."""
    request_id: str | int | None = None
    """The client's request id."""
    method: str = "tools/call"
    """``tools/call``; ``prompts/get`` or ``resources/read`` for the host's relayed prompt and resource requests."""
    tool_name: str
    """The tool's name on its server (not the qualified name); a prompt's own name, or a resource's URI."""
    duration_ms: int = 0
    """From the request reaching the host to the response leaving it."""
    status: CallStatus = "completed"
    """``completed``; ``error`` for a JSON-RPC error, ``isError``, a crash or a cancellation; ``timeout``."""
    error_message: str | None = None
    """What went wrong, truncated to 500 characters."""
    argument_keys: list[str] = []
    """The argument names, sorted. Values are never recorded."""
    argument_json_bytes: int = 0
    """Size of the arguments as JSON."""
    result_json_bytes: int = 0
    """Size of the result (or error) as JSON."""
    run_id: str | None = None
    """See :class:`RunTag`."""
    iteration: int | None = None
    """See :class:`RunTag`."""
    phase: str | None = None
    """See :class:`RunTag`."""
    qualified_name: str | None = None
    """The name the client called (``<server>__<tool>``)."""


class CallSummary(BaseModel):
    """Counts over ``mcp_calls.jsonl``."""

    count: int = 0
    """Tool calls recorded (``tools/call``; every other count below is of tool calls too, but ``by_method``)."""
    ok_count: int = 0
    """Calls with status ``completed``."""
    by_iteration: dict[int, int] = {}
    """Calls per iteration (calls without one are not counted here)."""
    by_tool: dict[str, int] = {}
    """Calls per ``<server>__<tool>`` (the unqualified pair joined with ``__``)."""
    by_status: dict[str, int] = {}
    """Calls per status."""
    by_server: dict[str, int] = {}
    """Calls per server."""
    by_method: dict[str, int] = {}
    """Every recorded request per method: tool calls, and prompts and resources the host relayed."""
    by_iteration_tool: dict[int, dict[str, int]] = {}
    """Calls per iteration, then per ``<server>__<tool>``."""


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_iso() -> str:
    return iso(time.time())


def calls_offset(workspace: Path) -> int:
    """The size of the workspace's telemetry now: pass it as ``since`` later to read only what came after."""
    try:
        return os.lstat(calls_path(workspace)).st_size
    except OSError:
        return 0


def summarize_calls(workspace: Path, run_id: str | None = None, *, since: int = 0) -> CallSummary:
    """Count the calls in the workspace's telemetry, optionally only those of ``run_id``.

    ``since`` (a :func:`calls_offset` taken earlier) skips what was there before, so the cost follows what a
    run appended, not the workspace's whole history. A file that shrank since (the agent may rewrite it) is
    read from its start.
    """
    summary = CallSummary()
    path = calls_path(workspace)
    try:
        fd = _open_regular(path, os.O_RDONLY)
    except OSError:
        return summary
    wanted = json.dumps(run_id).encode() if run_id is not None else None
    with os.fdopen(fd, "rb") as fh:
        if 0 < since <= os.fstat(fh.fileno()).st_size:
            fh.seek(since)
        while line := fh.readline(_MAX_LINE + 1):
            if len(line) > _MAX_LINE:  # not a record of ours: skip to the end of the line, bounded
                while line and not line.endswith(b"\n"):
                    line = fh.readline(_MAX_LINE)
                continue
            if wanted is not None and wanted not in line:
                continue  # cheaper than parsing every other run's line; the parse below still decides
            try:
                record = CallRecord.model_validate_json(line)
            except ValidationError:
                continue
            if run_id is not None and record.run_id != run_id:
                continue
            summary.by_method[record.method] = summary.by_method.get(record.method, 0) + 1
            if record.method != "tools/call":
                continue
            summary.count += 1
            summary.ok_count += record.status == "completed"
            if record.iteration is not None:
                summary.by_iteration[record.iteration] = summary.by_iteration.get(record.iteration, 0) + 1
            tool = f"{record.server}__{record.tool_name}"
            summary.by_tool[tool] = summary.by_tool.get(tool, 0) + 1
            if record.iteration is not None:
                per = summary.by_iteration_tool.setdefault(record.iteration, {})
                per[tool] = per.get(tool, 0) + 1
            summary.by_status[record.status] = summary.by_status.get(record.status, 0) + 1
            summary.by_server[record.server] = summary.by_server.get(record.server, 0) + 1
    return summary


class CallTail:
    """Reads the calls appended to ``mcp_calls.jsonl`` since the last read (for live progress): whole lines only,
    from where it stopped, so a poll costs what was appended, not the file."""

    def __init__(self, workspace: Path, *, from_end: bool = True) -> None:
        self.path = calls_path(workspace)
        self._offset = 0
        if from_end:
            try:
                self._offset = self.path.stat().st_size
            except OSError:
                self._offset = 0

    def read_new(self, limit: int = 1 << 22) -> list[CallRecord]:
        """Records appended since the last call (at most ``limit`` bytes of them); a torn tail waits for later."""
        try:
            fd = _open_regular(self.path, os.O_RDONLY)
        except OSError:
            return []
        with os.fdopen(fd, "rb") as fh:
            if os.fstat(fh.fileno()).st_size < self._offset:  # replaced or truncated: start over
                self._offset = 0
            fh.seek(self._offset)
            chunk = fh.read(limit)
        end = chunk.rfind(b"\n")
        if end < 0:
            if len(chunk) == limit:  # one line longer than a read: not a record of ours, skip it
                self._offset += len(chunk)
            return []
        self._offset += end + 1
        records: list[CallRecord] = []
        for line in chunk[: end + 1].splitlines():
            try:
                records.append(CallRecord.model_validate_json(line))
            except ValidationError:
                continue
        return records


class TelemetryWriter:
    """Buffers records and appends them every ``interval`` seconds, whole lines under a file lock, from one task.

    Batching keeps the file out of the hot path: a call costs a ``json.dumps`` and a list append, and the
    writer wakes a few times a second, not once per call.
    """

    def __init__(self, path: Path, interval: float = 0.1) -> None:
        self.path = path
        self.interval = interval
        self._records: list[dict[str, Any]] = []
        self._stop = anyio.Event()
        self._fd: int | None = None

    def record(self, fields: dict[str, Any]) -> None:
        """Queue one record; a float ``created_at`` (epoch seconds) is formatted when written."""
        self._records.append(fields)

    def record_call(
        self,
        tag: RunTag,
        *,
        created_at: float,
        started: float,
        server: str,
        request_id: Any,
        method: str,
        tool_name: str,
        status: CallStatus,
        message: str | None,
        argument_keys: list[str],
        argument_bytes: int,
        result_bytes: int,
        qualified_name: str | None,
        write_through: bool = False,
    ) -> None:
        """Queue the line of one relayed request (see :class:`CallRecord`); ``started`` is its
        ``time.monotonic()``. ``write_through`` writes it now, before the answer leaves."""
        self.record({
            "created_at": created_at, "server": server, "request_id": request_id, "method": method,
            "tool_name": tool_name, "duration_ms": int((time.monotonic() - started) * 1000), "status": status,
            "error_message": message[:500] if message else None, "argument_keys": argument_keys,
            "argument_json_bytes": argument_bytes, "result_json_bytes": result_bytes, "run_id": tag.run_id,
            "iteration": tag.iteration, "phase": tag.phase, "qualified_name": qualified_name,
        })  # fmt: skip
        if write_through:
            self.flush()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Write buffered lines until :meth:`close`; then write what is left."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = _open_regular(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        except OSError as exc:
            # Something else was planted where the calls go (a symlink out of the workspace, a FIFO that
            # would block the open): it is harnessgym's file, so it is replaced by a fresh one.
            log.warning("%s is not a regular file (%s); replacing it", self.path, exc.strerror or exc)
            os.unlink(self.path)
            fd = _open_regular(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND)
        self._fd = fd
        task_status.started()
        try:
            while not self._stop.is_set():
                with anyio.move_on_after(self.interval):
                    await self._stop.wait()
                self._flush(fd)
        finally:
            self._fd = None
            self._flush(fd)
            os.close(fd)

    def flush(self) -> None:
        """Write what is queued now. Shutdown calls this first: stopping servers can take longer than the
        grace period a killer allows before SIGKILL, and answered calls must not lose their line."""
        if self._fd is not None:
            self._flush(self._fd)

    def _flush(self, fd: int) -> None:
        if not self._records:
            return
        records, self._records = self._records, []
        lines = []
        for fields in records:
            created = fields.get("created_at")
            if isinstance(created, float):
                fields["created_at"] = iso(created)
            lines.append(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        _append(fd, b"".join(lines))

    def close(self) -> None:
        self._stop.set()


def _open_regular(path: Path, flags: int) -> int:
    """Open ``path`` without following a symlink or waiting on a FIFO; ``OSError`` unless a regular file."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file")
    os.set_blocking(fd, True)
    return fd


def _append(fd: int, data: bytes) -> None:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
