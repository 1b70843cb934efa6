"""One relayed ``tools/call``: route the answer back under the client's id, and record it.

A :class:`RelayedCall` is the waiter the router registers with a server for each client call. Whatever
happens first settles it exactly once: the server's answer (its id spliced back, see
:func:`mcp_host._wire.jsonrpc.splice_id`), a timeout or a crash (an ``isError`` result saying which), or the
client's cancellation (no answer, as the spec says; the server is told). Each outcome queues one telemetry
record; the answer is sent before the record is queued, so recording never delays the client.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Literal

from mcp_host._serve.session import Session
from mcp_host._serve.telemetry import TelemetryWriter
from mcp_host._supervise.downstream import Downstream
from mcp_host._wire import jsonrpc
from mcp_host._wire.fdio import PIPE_BUF

__all__ = ["RelayedCall"]

_MAYBE_ERROR = re.compile(rb'"isError"\s*:\s*true')
"""Where an ``isError`` answer shows (a key spelled with escapes is caught by looking for ``\\u``)."""


class RelayedCall:
    """One client ``tools/call`` in flight at one server (a :class:`mcp_host._supervise.downstream.Waiter`)."""

    __slots__ = (
        "args",
        "client_id",
        "created_at",
        "deadline",
        "did",
        "done",
        "progress",
        "qualified",
        "server",
        "session",
        "started",
        "telemetry",
        "token",
        "tool",
    )

    def __init__(
        self,
        session: Session,
        client_id: Any,
        server: Downstream,
        tool: str,
        qualified: str,
        args: Any,
        *,
        telemetry: TelemetryWriter | None,
        progress: dict[int, tuple[Session, Any]],
    ) -> None:
        self.telemetry = telemetry
        self.progress = progress
        self.session = session
        self.client_id = client_id
        self.server = server
        self.tool = tool
        self.qualified = qualified
        self.started = time.monotonic()
        self.created_at = time.time()
        self.deadline = self.started + server.spec.tool_timeout
        self.did = 0
        self.done = False
        self.token: int | None = None
        self.args = args
        """Measured (keys, size) only when the line is recorded, after the answer left."""

    def resolve_now(self, raw: bytes) -> bool:
        """Settle the call from the server's answer ``raw`` right away, in the reader's callback, when that can be
        done without waiting: a small answer in the usual envelope to a client on a pipe with room. False leaves
        everything as it was, for :meth:`resolve`. The answer leaves first and its line is queued right after,
        with no await between (so nothing can run in between, a signal's handler included)."""
        if self.done or self.session.write_through or len(raw) >= PIPE_BUF:
            return False  # write_through: its line must be written before the answer leaves (see Session)
        spliced = jsonrpc.splice_id(raw, self.did, self.client_id)
        if spliced is None:
            return False
        out, result_bytes = spliced
        if _MAYBE_ERROR.search(raw) or b"\\u" in raw or jsonrpc.is_error_answer(raw):  # else no need to parse
            status, message = _outcome(json.loads(raw))
        else:
            status, message = "completed", None
        if not self.session.send_now(out):
            return False
        self._finish()
        self._record(status, message, result_bytes)
        return True

    async def resolve(self, msg: dict[str, Any], raw: bytes) -> None:
        if self._finish():
            return
        spliced = jsonrpc.splice_id(raw, self.did, self.client_id)
        if spliced is not None:
            out, result_bytes = spliced
        else:
            msg["id"] = self.client_id
            out = jsonrpc.dumps(msg)
            result_bytes = len(jsonrpc.dumps(msg.get("result", msg.get("error"))))
        status, message = _outcome(msg)
        # Queued before the answer leaves: a client that exits on the answer may get us killed right after.
        self._record(status, message, result_bytes)
        await self.session.send(out)

    async def fail(self, message: str, status: Literal["error", "timeout"]) -> None:
        if self._finish():
            return
        if status == "timeout":
            self.server.cancel(self.did, "timed out in the harnessgym host")
        body = jsonrpc.result(self.client_id, {"content": [{"type": "text", "text": message}], "isError": True})
        self._record(status, message, 0)
        await self.session.send(body)

    def cancelled(self, reason: str) -> None:
        """The client cancelled: tell the server, answer nothing (as the spec says), record it."""
        if self._finish():
            return
        self.server.cancel(self.did, reason)
        self._record("error", f"cancelled by the client: {reason}", 0)

    def _finish(self) -> bool:
        if self.done:
            return True
        self.done = True
        self.session.calls.pop(self.client_id, None)
        if self.token is not None:
            self.progress.pop(self.token, None)
        return False

    def _record(self, status: Literal["completed", "error", "timeout"], message: str | None, result_bytes: int) -> None:
        telemetry, args = self.telemetry, self.args
        if telemetry is None:
            return
        telemetry.record_call(
            self.session.tag, created_at=self.created_at, started=self.started, server=self.server.name,
            request_id=self.client_id, method="tools/call", tool_name=self.tool, status=status, message=message,
            argument_keys=sorted(args) if isinstance(args, dict) else [],
            argument_bytes=len(jsonrpc.dumps(args)) if args is not None else 0, result_bytes=result_bytes,
            qualified_name=self.qualified, write_through=self.session.write_through,
        )  # fmt: skip


def _outcome(msg: Any) -> tuple[Literal["completed", "error"], str | None]:
    """A server's answer's telemetry status, and what went wrong."""
    if not isinstance(msg, dict):
        return "completed", None
    result = msg.get("result")
    if "error" in msg:
        return "error", _error_text(msg["error"])
    if isinstance(result, dict) and result.get("isError") is True:
        return "error", _content_text(result)
    return "completed", None


def _error_text(err: Any) -> str:
    if isinstance(err, dict):
        return str(err.get("message", err))
    return str(err)


def _content_text(result: dict[str, Any]) -> str:
    content = result.get("content")
    if isinstance(content, list):
        texts = [c.get("text", "") for c in content if isinstance(c, dict) and c.get("type") == "text"]
        if texts:
            return " ".join(str(t) for t in texts)[:500]
    return "the tool reported an error"
