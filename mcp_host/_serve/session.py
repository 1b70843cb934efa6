"""One client connection to the host: its transport, framing, run tag and in-flight calls.

A session reads frames from its transport (newline JSON, or Content-Length when the client sends that; the
reply framing follows the client's first message) and writes whole frames under a lock, so responses from
several servers never interleave on the wire.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from mcp_host._serve.telemetry import RunTag
from mcp_host._wire.framing import Frame, Junk, WireFraming, encode

if TYPE_CHECKING:
    from mcp_host._serve.relay import RelayedCall

__all__ = ["Session", "Transport"]

_ids = itertools.count(1)


class Transport(Protocol):
    """A byte stream: stdio (:class:`mcp_host._wire.fdio.FdStream`) or a unix socket connection."""

    async def receive(self) -> bytes: ...

    async def send(self, data: bytes) -> None: ...

    async def aclose(self) -> None: ...


class Session:
    """A connected client."""

    def __init__(self, transport: Transport, tag: RunTag, label: str, *, write_through: bool = False) -> None:
        self.id = next(_ids)
        self.write_through = write_through
        """Write each call's telemetry line before its answer leaves, not in the next batch: for ``harnessgym mcp
        call`` clients, which exit on the answer, after which the on-demand daemon may be killed at any moment
        (on a loaded machine before its SIGTERM handler could flush)."""
        self.transport = transport
        self.tag = tag
        self.label = label
        self.framing: WireFraming | None = None
        self.initialized = False
        self.closed = False
        self.protocol_version: str | None = None
        self.calls: dict[Any, RelayedCall] = {}
        """In-flight tools/call by the client's request id."""
        self.handling = False
        """The session's task is handling messages: the reader callback leaves new ones to it (order kept)."""
        self.backlog: list[Frame | Junk] = []
        """Messages the reader callback decoded but could not handle at once, for the session's task."""
        self._lock = anyio.Lock(fast_acquire=True)

    def send_now(self, body: bytes) -> bool:
        """Send one small message at once, whole or not at all (an atomic non-blocking pipe write, see
        :meth:`mcp_host._wire.fdio.FdStream.try_send_atomic`); False when it must go through :meth:`send`: a
        transport without atomic writes (a socket), a send in progress, a full pipe, a large message."""
        try_send = getattr(self.transport, "try_send_atomic", None)
        if try_send is None or self.closed or self._lock.locked():
            return False
        return bool(try_send(encode(body, self.framing or "newline")))

    async def send(self, body: bytes) -> None:
        """Send one message; a client that went away is noted, never raised."""
        if self.closed:
            return
        data = encode(body, self.framing or "newline")
        try:
            async with self._lock:
                await self.transport.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            self.closed = True
