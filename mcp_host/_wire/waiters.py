"""What waits for a server's answer: the :class:`Waiter` protocol, and :class:`Future` for internal requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol

import anyio

from mcp_host._wire.framing import WireFraming

__all__ = ["Future", "Waiter"]


class Waiter(Protocol):
    """Receives the outcome of one request sent to a server."""

    deadline: float
    """``time.monotonic()`` after which it times out (``inf`` for none)."""
    did: int
    """The id the request carries to the server (set by :meth:`Downstream.send` before writing)."""

    async def resolve(self, msg: dict[str, Any], raw: bytes) -> None: ...

    async def fail(self, message: str, status: Literal["error", "timeout"]) -> None: ...


class Future:
    """A waiter for the supervisor's own requests (handshake, tools/list): an event and the outcome."""

    def __init__(self, framing_of: Callable[[], WireFraming], event: anyio.Event | None = None) -> None:
        self.deadline = float("inf")
        self.did = 0
        self.event = event or anyio.Event()
        self.msg: dict[str, Any] | None = None
        self.error: str | None = None
        self.framing: WireFraming | None = None
        self._framing_of = framing_of

    async def resolve(self, msg: dict[str, Any], raw: bytes) -> None:
        self.msg = msg
        self.framing = self._framing_of()
        self.event.set()

    async def fail(self, message: str, status: Literal["error", "timeout"]) -> None:
        self.error = message
        self.event.set()
