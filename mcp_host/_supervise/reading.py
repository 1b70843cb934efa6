"""The reading half of a supervised server: its stdout decoded into answers, notifications and its own
requests, its end (every call still waiting gets the crash at once), and oversized or broken frames. A mixin:
:class:`~mcp_host._supervise.downstream.Downstream` holds the state it uses.

The hot path runs in the pipe's reader callback (:attr:`mcp_host._wire.fdio.FdStream.on_data`), with no task
woken: a small answer to a relayed call goes back to its client at once
(:meth:`mcp_host._serve.relay.RelayedCall.resolve_now`). Whatever that cannot settle synchronously (a large
answer, a notification, a busy client) is left, in order, to the reading task."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any, Literal, cast

import anyio
import anyio.abc

from mcp_host._errors import ServerCrashedError
from mcp_host._supervise.stderrlog import BoundedLog
from mcp_host._wire import jsonrpc
from mcp_host._wire.fdio import FdStream
from mcp_host._wire.framing import Decoder, Frame, Junk, WireFraming
from mcp_host._wire.waiters import Waiter

if TYPE_CHECKING:
    from mcp_host._supervise.downstream import Downstream, Listener

__all__ = ["ServerReading"]

log = logging.getLogger(__name__)

_UPTIME_RESETS_BACKOFF = 30.0
_ID_IN_HEAD = re.compile(rb'"id"\s*:\s*(\d+)')
_RESPONSE = re.compile(rb'\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(\d{1,18})\s*,\s*"(?:result|error)"\s*:')


class ServerReading:
    """What a server says, read; the attributes below are the :class:`Downstream`'s."""

    name: str
    listener: Listener | None
    max_message_bytes: int
    state: Literal["stopped", "starting", "running", "crashed"]
    last_error: str
    returncode: int | None
    pending: dict[int, Waiter]
    stderr: BoundedLog
    rx_framing: WireFraming
    _tg: anyio.abc.TaskGroup
    _proc: anyio.abc.Process | None
    _stderr_drained: anyio.Event | None
    _started_at: float
    _failures: int
    _stopping: bool

    def _failed(self, message: str) -> None:
        raise NotImplementedError

    def message(self, what: str) -> str:
        raise NotImplementedError

    async def write(self, body: bytes) -> None:
        raise NotImplementedError

    async def _kill_all(self, proc: anyio.abc.Process, grace: float) -> None:
        raise NotImplementedError

    _backlog: list[Frame | Junk]
    _handling: bool

    def _fast_feed(self, decoder: Decoder, data: bytes) -> bool | None:
        """The reader callback's share (see the module docstring): True when every message in ``data`` was
        settled here, False when the rest waits in the backlog for the task, None when the task must take it all
        (it is behind, or handling: the order of what a server says is kept)."""
        if self._handling or self._backlog:
            return None
        items = decoder.feed(data)
        for i, item in enumerate(items):
            if not (isinstance(item, Frame) and self._answer_now(item)):
                self._backlog = items[i:]
                return False
        return True

    def _answer_now(self, frame: Frame) -> bool:
        m = _RESPONSE.match(frame.body)
        if m is None:
            return False
        did = int(m.group(1))
        waiter = self.pending.get(did)
        resolve_now = getattr(waiter, "resolve_now", None)
        if resolve_now is None:
            return False
        try:
            done = bool(resolve_now(frame.body))
        except Exception:  # the per-server guard; the task's path says what went wrong
            log.exception("server %s: an answer could not be relayed at once", self.name)
            return False
        if done:
            self.rx_framing = frame.framing
            self.pending.pop(did, None)
        return done

    async def _read(self, proc: anyio.abc.Process, io: FdStream) -> None:
        decoder = Decoder(self.max_message_bytes)
        self._backlog, self._handling = [], False
        io.on_data = lambda data: self._fast_feed(decoder, data)
        waiting: list[anyio.CancelScope] = []  # covers only a wait for bytes, never the handling of a message
        exited = False

        async def until_exit() -> None:
            # A process it left behind (a detached grandchild) may hold its stdout open: the server's own exit
            # ends the reading, after what it wrote before exiting has been read.
            nonlocal exited
            await proc.wait()
            exited = True
            for scope in waiting:
                scope.cancel()

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(until_exit)
                with contextlib.suppress(anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError,
                                         OSError):  # fmt: skip
                    while not exited:
                        chunk = b""
                        with anyio.CancelScope() as scope:
                            waiting[:] = [scope]
                            chunk = await io.receive()
                        waiting.clear()
                        if scope.cancel_called:
                            break
                        await self._feed(decoder, chunk)
                tg.cancel_scope.cancel()
            if exited:
                await self._feed(decoder, io.read_available())
        finally:
            io.close_reader()
        # Only end of output gets here; on cancellation the owner's stop() cleans up.
        with anyio.CancelScope(shield=True):
            await self._on_eof(proc)

    async def _feed(self, decoder: Decoder, chunk: bytes) -> None:
        self._handling = True
        try:
            await self._feed_items(decoder, chunk)
        finally:
            self._handling = False

    async def _feed_items(self, decoder: Decoder, chunk: bytes) -> None:
        backlog, self._backlog = self._backlog, []
        for item in [*backlog, *decoder.feed(chunk)]:
            if isinstance(item, Frame):
                self.rx_framing = item.framing
                try:
                    await self._dispatch(item.body)
                except Exception as exc:  # the per-server guard: a hostile message is skipped
                    log.exception("server %s: a message could not be handled", self.name)
                    self.stderr.note(f"skipped a message that could not be handled: {exc!r}")
            else:
                self.stderr.note(f"skipped from stdout: {item.reason}: {item.head[:120]!r}")
                if item.error is not None:
                    await self._fail_oversized(item.head, str(item.error))

    async def _fail_oversized(self, head: bytes, message: str) -> None:
        m = _ID_IN_HEAD.search(head)
        if m is not None:
            waiter = self.pending.pop(int(m.group(1)), None)
            if waiter is not None:
                await waiter.fail(f"server {self.name!r} sent {message}", "error")

    async def _dispatch(self, body: bytes) -> None:
        try:
            msg = json.loads(body)
        except (ValueError, RecursionError) as exc:
            self.stderr.note(f"skipped invalid JSON from stdout ({exc}): {body[:120]!r}")
            return
        if not isinstance(msg, dict):
            self.stderr.note(f"skipped a non-object message (batches are not supported): {body[:120]!r}")
            return
        if "method" in msg:
            if "id" in msg:
                self._tg.start_soon(self._answer_server_request, msg)
            elif self.listener is not None:
                await self.listener.on_notification(cast("Downstream", self), msg, body)
            return
        rid = msg.get("id")
        waiter = self.pending.pop(rid, None) if isinstance(rid, int) else None
        if waiter is None:
            self.stderr.note(f"dropped a response to unknown or expired request id {rid!r}")
            return
        await waiter.resolve(msg, body)

    async def _answer_server_request(self, msg: dict[str, Any]) -> None:
        if msg.get("method") == "ping":
            reply = jsonrpc.result(msg["id"], {})
        else:
            reply = jsonrpc.error(
                msg["id"], jsonrpc.METHOD_NOT_FOUND, f"the harnessgym host does not relay {msg.get('method')!r}"
            )
        with contextlib.suppress(ServerCrashedError):
            await self.write(reply)

    async def _on_eof(self, proc: anyio.abc.Process) -> None:
        with anyio.move_on_after(1):
            await proc.wait()
        self.returncode = proc.returncode
        if proc is not self._proc:
            return
        # Its whole tree goes with it, and what it detached: they may hold its pipes (and stderr) open.
        await self._kill_all(proc, grace=1.0)
        if self._stopping:
            return
        # Its last words may still sit in the stderr pipe: read them (bounded) before they are quoted.
        drained = self._stderr_drained
        if drained is not None:
            with anyio.move_on_after(1):
                await drained.wait()
        what = "exited during startup" if self.state == "starting" else "exited"
        if self.pending and self.state != "starting":
            what = f"exited with {len(self.pending)} request(s) in flight"
        message = self.message(what)
        uptime = time.monotonic() - self._started_at
        if self.state == "running":
            if uptime > _UPTIME_RESETS_BACKOFF:
                self._failures = 0
            self._failed(message)
        self.state = "crashed"
        self.last_error = message
        self.stderr.note(message)
        await self._fail_all(message, "error")
        if self.listener is not None:
            self.listener.on_exit(cast("Downstream", self), message)

    async def _fail_all(self, message: str, status: Literal["error", "timeout"]) -> None:
        pending, self.pending = self.pending, {}
        for waiter in pending.values():
            await waiter.fail(message, status)
