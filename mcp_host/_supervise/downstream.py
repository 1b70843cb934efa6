"""One supervised MCP server process: start, handshake (with framing detection), request routing, restart.

A :class:`Downstream` owns one child at a time. The child runs in its own process group with a scrubbed
environment (:mod:`mcp_host._supervise.env`); its stderr is drained continuously into a bounded log; its stdout is read
by one task that decodes frames (:mod:`mcp_host._wire.framing`), parses each message once, and hands responses to
the waiter registered under their id. Requests are matched by id, never in lockstep.

Framing: see :mod:`mcp_host._supervise.handshake` (``auto`` probes both framings at start).

Crashes: when stdout ends, every in-flight request fails at once with the exit code and stderr tail, the
whole process tree is killed, and the next :meth:`Downstream.ensure_running` restarts it after a backoff
(0 s, 0.5 s, 1 s, 2 s ... 30 s; reset after 30 s of uptime).

Wedges: a server that is alive but stopped answering is found by :mod:`mcp_host._supervise.health`, which calls
:meth:`Downstream.kill_wedged`; from there it is handled like a crash.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

import anyio
import anyio.abc

from mcp_host._errors import ServerCrashedError, ServerStartError, ServerTimeoutError
from mcp_host._paths import server_log_path
from mcp_host._serve.surfaces import ServerSurfaces
from mcp_host._supervise import procs
from mcp_host._supervise.env import passed_on, scrubbed_env
from mcp_host._supervise.handshake import handshake
from mcp_host._supervise.manifest import ServerSpec
from mcp_host._supervise.reading import ServerReading
from mcp_host._supervise.stderrlog import BoundedLog
from mcp_host._wire import jsonrpc
from mcp_host._wire.fdio import FdStream
from mcp_host._wire.framing import DEFAULT_MAX_MESSAGE_BYTES, WireFraming, encode
from mcp_host._wire.waiters import Future, Waiter

__all__ = ["Downstream", "Listener"]

log = logging.getLogger(__name__)

_MAX_RESTART_WAIT = 5.0
_UPTIME_RESETS_BACKOFF = 30.0
_ID_IN_HEAD = re.compile(rb'"id"\s*:\s*(\d+)')

State = Literal["stopped", "starting", "running", "crashed"]


class Listener(Protocol):
    """What a server's owner hears about besides responses."""

    async def on_notification(self, server: Downstream, msg: dict[str, Any], raw: bytes) -> None: ...

    def on_exit(self, server: Downstream, message: str) -> None: ...


def _backoff(failures: int) -> float:
    if failures <= 1:
        return 0.0
    return float(min(30.0, 0.5 * 2 ** (failures - 2)))


class Downstream(ServerReading):
    """Supervises one MCP server; see the module docstring."""

    def __init__(
        self,
        spec: ServerSpec,
        *,
        workspace: Path,
        task_group: anyio.abc.TaskGroup,
        listener: Listener | None = None,
        log_dir: Path | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        framing_hint: WireFraming | None = None,
        gate: Callable[[ServerSpec], str | None] | None = None,
        pass_env: frozenset[str] = frozenset(),
    ) -> None:
        self.spec = spec
        self.gate = gate
        self.pass_env = pass_env
        """Variables the user passes on to every server (secret-named ones included: the user's choice)."""
        """Checked before every start: why the server must not run as it stands (edited since qualified)."""
        self.name = spec.name
        self.workspace = workspace
        self.listener = listener
        self.max_message_bytes = max_message_bytes
        self.state: State = "stopped"
        self.tools: list[dict[str, Any]] = []
        self.tool_notes: list[str] = []
        """What was repaired or dropped from its last tool list (:mod:`mcp_host._supervise.tooldefs`)."""
        self.capabilities: dict[str, Any] = {}
        """What the server announced in its ``initialize`` answer."""
        self.surfaces = ServerSurfaces()
        """Its prompts and resources (:mod:`mcp_host._serve.surfaces`)."""
        self.framing: WireFraming | None = None if spec.framing == "auto" else spec.framing
        self.rx_framing: WireFraming = "newline"
        self.last_error = ""
        self.returncode: int | None = None
        self.pending: dict[int, Waiter] = {}
        self.stderr = BoundedLog(server_log_path(log_dir, spec.name) if log_dir else None)
        self._tg = task_group
        self._proc: anyio.abc.Process | None = None
        self._tags: dict[int, str] = {}
        """Each started process's tag (:data:`mcp_host.procs.SERVER_TAG_VAR`), to sweep what it detached."""
        self._io: FdStream | None = None
        self._stderr_drained: anyio.Event | None = None
        self._next_id = 1
        self._write_lock = anyio.Lock(fast_acquire=True)
        self._start_lock = anyio.Lock()
        self._started_at = 0.0
        self._failures = 0
        self._next_start = 0.0
        self.learned_framing: WireFraming | None = framing_hint
        self._stopping = False
        # Health bookkeeping (mcp_host._supervise.health), kept off the per-call path.
        self.probing = False
        """A health ping is in flight."""
        self.probe_wanted = False
        """A call timed out since the last ping: ask whether the server still answers."""
        self.answers_pings: bool | None = None
        """Whether this process answers ``ping`` (None: not known yet; False: it is probed with ``tools/list``)."""
        self.last_probe = 0.0
        """``time.monotonic()`` of the last health ping (or of the start)."""
        self.busy_until = 0.0
        """Calls the client cancelled may keep the server busy until their deadline; no idle ping before."""

    @property
    def is_running(self) -> bool:
        return self.state == "running"

    @property
    def pid(self) -> int | None:
        """The current process's id, if one was started."""
        return self._proc.pid if self._proc is not None else None

    @property
    def next_id(self) -> int:
        """The id the next request will carry (ids only grow)."""
        return self._next_id

    def has_live_calls(self, now: float, before: int | None = None) -> bool:
        """Whether a call is in flight that is still within its timeout (the supervisor's own requests aside);
        with ``before``, only calls sent before the request of that id count."""
        if now < self.busy_until:
            return True
        return any(
            now < w.deadline < float("inf") and (before is None or did < before) for did, w in self.pending.items()
        )

    # -- lifecycle -----------------------------------------------------------------------------------

    async def ensure_running(self) -> None:
        """Start the server if it is not running, waiting out the restart backoff (at most 5 s)."""
        if self.state == "running":
            return
        async with self._start_lock:
            if self.is_running:
                return
            delay = self._next_start - time.monotonic()
            if delay > _MAX_RESTART_WAIT:
                raise ServerStartError(
                    self.name,
                    f"server {self.name!r} failed {self._failures} times ({self.last_error}); "
                    f"the next restart is allowed in {delay:.1f} s",
                )
            if delay > 0:
                await anyio.sleep(delay)
            await self._start()

    async def _start(self) -> None:
        self.state = "starting"
        self._stopping = False
        # The process before this one (killed as wedged, crashed) is no longer the server's from here on: its
        # reader, seeing its end while this one starts, must not take this start for a crash of it.
        self._proc = None
        spec = self.spec
        problem = self.gate(spec) if self.gate is not None else None
        if problem is not None:
            self._failed(problem)
            raise ServerStartError(self.name, problem)
        # Plain pipes read and written without threads or stream wrappers: the hot path of every call.
        child_in, to_child = os.pipe()
        from_child, child_out = os.pipe()
        try:
            tag = uuid.uuid4().hex
            env = scrubbed_env({**spec.env, procs.SERVER_TAG_VAR: tag}, workspace=self.workspace)
            env.update(passed_on(spec.pass_env, self.pass_env))
            proc = await procs.spawn(spec.argv, cwd=spec.cwd, env=env, stdin=child_in, stdout=child_out)
            self._tags[proc.pid] = tag
        except OSError as exc:
            for fd in (to_child, from_child):
                os.close(fd)
            self._failed(f"cannot start {spec.command!r}: {exc.strerror or exc}")
            raise ServerStartError(self.name, f"server {self.name!r}: {self.last_error}") from None
        finally:
            os.close(child_in)
            os.close(child_out)
        self._proc = proc
        io = self._io = FdStream(from_child, to_child, own=True)
        self._started_at = self.last_probe = time.monotonic()
        self.probe_wanted = False
        self.answers_pings = None
        self.returncode = None
        self.stderr.note(f"started pid {proc.pid}: {' '.join(spec.argv)}")
        self._stderr_drained = anyio.Event()
        self._tg.start_soon(self._drain_stderr, proc, self._stderr_drained)
        self._tg.start_soon(self._read, proc, io)
        try:
            with anyio.fail_after(spec.startup_timeout):
                await handshake(self)
        except TimeoutError:
            await self._kill(proc)
            self._failed(f"no answer to initialize/tools/list within {spec.startup_timeout:g} s")
            raise ServerStartError(self.name, self.message(self.last_error), timed_out=True) from None
        except ServerStartError as exc:
            await self._kill(proc)
            self._failed(str(exc))
            raise
        self.state = "running"

    def _failed(self, message: str) -> None:
        self.state = "crashed"
        self.last_error = message
        self._failures += 1
        self._next_start = time.monotonic() + _backoff(self._failures)

    def message(self, what: str) -> str:
        """``what`` happened to this server, with its exit code and the tail of its stderr."""
        tail = self.stderr.tail.strip().splitlines()[-8:]
        code = f" (exit code {self.returncode})" if self.returncode is not None else ""
        stderr = ("; stderr tail: " + " | ".join(tail)[-800:]) if tail else ""
        return f"server {self.name!r}{code}: {what}{stderr}"

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` (or a wedged kill) came since the last start: what fails now was stopped on purpose."""
        return self._stopping

    async def stop(self) -> None:
        """Stop the server and every process it started. Idempotent."""
        self._stopping = True
        proc = self._proc
        if proc is not None:
            await self._kill(proc)
        self.state = "stopped"
        await self._fail_all(f"server {self.name!r} was stopped", "error")

    async def kill_wedged(self, message: str) -> None:
        """Kill a server that is alive but stopped answering: fail its calls with ``message``, kill its tree,
        and let the next call restart it (with the crash backoff)."""
        proc, io = self._proc, self._io
        if proc is None or not self.is_running:
            return
        self.stderr.note(message)
        # Marked stopping so that its reader, seeing the end of output, leaves the bookkeeping to us.
        self._stopping = True
        if time.monotonic() - self._started_at > _UPTIME_RESETS_BACKOFF:
            self._failures = 0
        self._failed(message)
        await self._fail_all(message, "error")
        with anyio.CancelScope(shield=True):
            # SIGTERM stays pending on a stopped process; the SIGKILL after the grace ends it either way.
            # Killed before its stdin is closed, so a write blocked on the full pipe wakes with EPIPE.
            await self._kill_all(proc, grace=0.5)
            with anyio.move_on_after(2):
                await proc.wait()
            if io is not None:
                io.close_writer()
            with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await proc.aclose()
        if proc is self._proc:
            self.returncode = proc.returncode
        if self.listener is not None:
            self.listener.on_exit(self, message)

    async def _kill_all(self, proc: anyio.abc.Process, grace: float) -> None:
        """Kill the process's group and tree, and whatever it detached from both (found by its tag)."""
        await procs.kill_tree(proc.pid, grace=grace)
        tag = self._tags.pop(proc.pid, None)
        if tag is not None:
            await procs.sweep_tagged(tag, grace=grace, var=procs.SERVER_TAG_VAR)

    async def _kill(self, proc: anyio.abc.Process) -> None:
        with anyio.CancelScope(shield=True):
            if self._io is not None and proc is self._proc:
                self._io.close_writer()
            await self._kill_all(proc, grace=1.0)
            with anyio.move_on_after(2):
                await proc.wait()
            with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await proc.aclose()
            self.returncode = proc.returncode

    # -- requests ------------------------------------------------------------------------------------

    def forget(self, waiter: Waiter) -> None:
        """Stop waiting for ``waiter``'s answer (it will be dropped when it comes)."""
        for did in [k for k, v in self.pending.items() if v is waiter]:
            del self.pending[did]

    def register(self, waiter: Waiter) -> int:
        did = self._next_id
        self._next_id += 1
        self.pending[did] = waiter
        return did

    def send_now(self, msg: dict[str, Any], waiter: Waiter) -> bool:
        """Send a small request inline when the server is running and its pipe has room: the hot path, with no
        task and no await. False means nothing was sent; the caller uses :meth:`send` from its own task."""
        io = self._io
        if io is None or self.state != "running" or self._write_lock.locked():
            return False
        did = self._next_id
        msg["id"] = did
        if not io.try_send_atomic(encode(jsonrpc.dumps(msg), self.framing or "newline")):
            return False
        self.register(waiter)
        waiter.did = did
        return True

    async def send(self, msg: dict[str, Any], waiter: Waiter) -> int:
        """Send request ``msg`` (its id is replaced by a fresh one, returned) and route the answer to ``waiter``."""
        did = self.register(waiter)
        msg["id"] = waiter.did = did
        try:
            await self.write(jsonrpc.dumps(msg))
        except ServerCrashedError as exc:
            if self.pending.pop(did, None) is not None:
                await waiter.fail(str(exc), "error")
        return did

    async def request(self, method: str, params: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
        """Send a request of the supervisor's own and wait for the answer (a JSON-RPC error is returned)."""
        fut = Future(lambda: self.rx_framing)
        did = self.register(fut)
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": did, "method": method}
        if params is not None:
            msg["params"] = params
        try:
            # The write is bounded too: a stopped server leaves its stdin pipe full.
            with anyio.move_on_after(timeout):
                await self.write(jsonrpc.dumps(msg))
                await fut.event.wait()
        finally:
            self.pending.pop(did, None)
        if fut.msg is not None:
            return fut.msg
        if fut.error is not None:
            raise ServerCrashedError(self.name, fut.error, self.returncode)
        raise ServerTimeoutError(self.name, f"server {self.name!r} did not answer {method} in {timeout:g} s", timeout)

    async def notify(self, method: str, params: dict[str, Any] | None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        await self.write(jsonrpc.dumps(msg))

    async def write(self, body: bytes) -> None:
        await self.write_raw(encode(body, self.framing or "newline"))

    async def write_raw(self, data: bytes) -> None:
        io = self._io
        if io is None:
            raise ServerCrashedError(self.name, f"server {self.name!r} is not running")
        try:
            async with self._write_lock:
                await io.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            await self._settle_exit()
            raise ServerCrashedError(self.name, self.message("its stdin is closed (it exited)")) from None

    async def _settle_exit(self) -> None:
        """After a broken pipe, give the dying server a moment (bounded) to be reaped and to have its last
        stderr read, so the error names its exit code and its own words rather than only 'stdin closed'."""
        proc, drained = self._proc, self._stderr_drained
        if proc is None:
            return
        with anyio.CancelScope(shield=True), anyio.move_on_after(1):
            await proc.wait()
            if drained is not None:
                await drained.wait()
        if proc.returncode is not None and proc is self._proc:
            self.returncode = proc.returncode

    async def expire(self, now: float) -> None:
        """Fail every request whose deadline has passed; a late answer is then dropped."""
        late = [did for did, w in self.pending.items() if w.deadline <= now]
        if late:
            self.probe_wanted = True
        for did in late:
            waiter = self.pending.pop(did, None)
            if waiter is None:
                continue
            await waiter.fail(f"server {self.name!r} did not answer within {self.spec.tool_timeout:g} s", "timeout")

    def cancel(self, did: int, reason: str) -> None:
        """Forget request ``did`` and tell the server it was cancelled (fire and forget)."""
        waiter = self.pending.pop(did, None)
        if waiter is not None:  # the server may work on until the call's deadline
            self.busy_until = max(self.busy_until, waiter.deadline)
        params = {"requestId": did, "reason": reason}
        self._tg.start_soon(self._notify_quietly, "notifications/cancelled", params)

    async def _notify_quietly(self, method: str, params: dict[str, Any]) -> None:
        with contextlib.suppress(ServerCrashedError):
            await self.notify(method, params)

    # -- reading -------------------------------------------------------------------------------------

    async def _drain_stderr(self, proc: anyio.abc.Process, drained: anyio.Event) -> None:
        try:
            if proc.stderr is None:
                return
            with contextlib.suppress(anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                while True:
                    self.stderr.write(await proc.stderr.receive(65536))
        finally:
            drained.set()
