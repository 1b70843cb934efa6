"""A client of ``codex app-server`` (verified with Codex 0.169): newline-delimited JSON-RPC over the child's stdio.

The server is started through :func:`mcp_host.spawn` (its own process group, the phase tag in its
environment) and always ends through :meth:`AppServer.close`: stdin closed, a bounded wait, then the whole tree
and every process carrying the tag killed. Every wait here is bounded.

Requests the server sends us (approvals, questions) are answered at once by policy, never left hanging: with
approvals and the sandbox bypassed (the runner's default) a command or file change is accepted; under a sandbox
it is declined, as ``approval_policy="never"`` would have it; anything else (user input, elicitations,
permission escalations, unknown methods) is refused, so the turn goes on without it.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

from mcp_host import PROC_TAG_VAR, kill_tree, spawn, sweep_tagged

__all__ = ["CLOSED", "AppServer", "AppServerError", "approval_answer"]

CLOSED = "harnessgym/closed"
"""The notification :class:`AppServer` hands on (itself) when the server's output ends."""

MAX_LINE_BYTES = 64 * 1024 * 1024
"""A line longer than this is not a protocol message: the server is treated as broken."""
CLOSE_GRACE_SECONDS = 3.0


class AppServerError(Exception):
    """The app server could not be started, broke its protocol, answered with an error, or went away."""


def approval_answer(method: str, bypass: bool) -> dict[str, Any] | None:
    """The result for a server request under the runner's policy; None refuses it with a JSON-RPC error."""
    if method in ("item/commandExecution/requestApproval", "item/fileChange/requestApproval"):
        return {"decision": "accept" if bypass else "decline"}
    if method in ("execCommandApproval", "applyPatchApproval"):  # the v1 names of the same questions
        return {"decision": "approved" if bypass else "denied"}
    if method == "mcpServer/elicitation/request":
        return {"action": "decline"}
    return None


class AppServer:
    """One running ``codex app-server``; use as ``async with AppServer.start(...) as server``."""

    def __init__(
        self,
        proc: anyio.abc.Process,
        tag: str,
        stdout_log: IO[bytes],
        on_notification: Callable[[dict[str, Any]], None],
        bypass: bool,
    ) -> None:
        self.proc = proc
        self.tag = tag
        self._log = stdout_log
        self._on_notification = on_notification
        self._bypass = bypass
        self._next_id = 0
        self._pending: dict[int, tuple[anyio.Event, list[dict[str, Any]]]] = {}
        self._closed = anyio.Event()
        self.answered: list[dict[str, Any]] = []
        """The server's requests and what they were answered (for the record)."""

    @classmethod
    async def start(
        cls, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], stdout_path: Path, stderr_path: Path,
        on_notification: Callable[[dict[str, Any]], None], bypass: bool, tg: anyio.abc.TaskGroup,
    ) -> AppServer:  # fmt: skip
        """Spawn the server and start reading it inside ``tg``; raises :class:`AppServerError` if it cannot start."""
        tag = uuid.uuid4().hex
        for path in (stdout_path, stderr_path):
            path.parent.mkdir(parents=True, exist_ok=True)
        log = open(stdout_path, "wb")
        err = open(stderr_path, "wb")
        try:
            proc = await spawn(argv, cwd=cwd, env={**env, PROC_TAG_VAR: tag}, stderr=err)
        except OSError as exc:
            log.close()
            raise AppServerError(f"could not start {argv[0]!r}: {exc.strerror or exc}") from None
        finally:
            err.close()  # the child holds its own copy
        server = cls(proc, tag, log, on_notification, bypass)
        tg.start_soon(server._read)
        return server

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        stream = BufferedByteReceiveStream(self.proc.stdout)
        try:
            while True:
                try:
                    line = await stream.receive_until(b"\n", MAX_LINE_BYTES)
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.ClosedResourceError, anyio.BrokenResourceError):
                    return
                except anyio.DelimiterNotFound:
                    return  # a runaway line: stop reading; waits end at their bounds
                self._log.write(line + b"\n")
                self._log.flush()
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    await self._dispatch(message)
        finally:
            self._closed.set()
            for event, _ in self._pending.values():
                event.set()
            self._on_notification({"method": CLOSED})  # so nothing waits for a server that is gone

    async def _dispatch(self, message: dict[str, Any]) -> None:
        method, mid = message.get("method"), message.get("id")
        if isinstance(method, str) and mid is not None:
            result = approval_answer(method, self._bypass)
            self.answered.append({"method": method, "answer": result})
            if result is None:
                refusal = {"code": -32601, "message": f"harnessgym does not answer {method}"}
                await self._send({"id": mid, "error": refusal})
            else:
                await self._send({"id": mid, "result": result})
        elif isinstance(method, str):
            self._on_notification(message)
        elif isinstance(mid, int) and mid in self._pending:
            event, holder = self._pending[mid]
            holder.append(message)
            event.set()

    async def _send(self, message: dict[str, Any]) -> None:
        if self.proc.stdin is None:
            raise AppServerError("the app server's stdin is closed")
        try:
            await self.proc.stdin.send((json.dumps(message) + "\n").encode())
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise AppServerError(f"the app server went away ({exc.__class__.__name__})") from None

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        await self._send({"method": method, **({"params": params} if params is not None else {})})

    async def request(self, method: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send a request and wait (at most ``timeout`` seconds) for its result."""
        self._next_id += 1
        mid = self._next_id
        event, holder = anyio.Event(), list[dict[str, Any]]()
        self._pending[mid] = (event, holder)
        try:
            await self._send({"id": mid, "method": method, "params": params})
            with anyio.move_on_after(timeout):
                await event.wait()
        finally:
            self._pending.pop(mid, None)
        if not holder:
            gone = "exited" if self._closed.is_set() else f"did not answer within {timeout:g} s"
            raise AppServerError(f"the app server {gone} ({method})")
        reply = holder[0]
        if "error" in reply:
            error = reply["error"]
            text = error.get("message") if isinstance(error, dict) else error
            raise AppServerError(f"{method} failed: {text}")
        result = reply.get("result")
        return result if isinstance(result, dict) else {}

    async def close(self) -> list[int]:
        """End the server and everything it started; return the stray pids killed through the tag."""
        with anyio.CancelScope(shield=True):
            if self.proc.stdin is not None:
                with anyio.move_on_after(1):
                    await self.proc.stdin.aclose()
            with anyio.move_on_after(CLOSE_GRACE_SECONDS):
                await self.proc.wait()
            await kill_tree(self.proc.pid)
            swept = await sweep_tagged(self.tag)
            with anyio.move_on_after(CLOSE_GRACE_SECONDS):
                await self.proc.wait()
            await self.proc.aclose()
            self._log.close()
        return [p for p in swept if p != os.getpid()]
