"""The exceptions ``mcp_host`` raises.

One tree, so callers can catch as broadly or narrowly as they need::

    MCPHostError
    ├── ManifestError            a server manifest is missing, unreadable or wrong (.path, .field)
    ├── DurationError            a value is not a usable duration (.value, .kind, .problem)
    ├── FramingError             bytes from a peer could not be framed as a JSON-RPC message
    │   └── MessageTooLargeError     a message is larger than the configured bound (.size, .limit)
    ├── ServerError              one downstream server failed (.server)
    │   ├── ServerStartError         it could not be started or did not complete the handshake in time
    │   ├── ServerCrashedError       it exited while requests were in flight (.returncode)
    │   └── ServerTimeoutError       it did not answer a request within its timeout (.timeout)
    └── HostUnavailableError     ``mcp call`` could not reach (or start) the host for a workspace

Messages say what happened, to what, and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = [
    "DurationError",
    "FramingError",
    "HostUnavailableError",
    "MCPHostError",
    "ManifestError",
    "MessageTooLargeError",
    "ServerCrashedError",
    "ServerError",
    "ServerStartError",
    "ServerTimeoutError",
]


class MCPHostError(Exception):
    """Base of every error ``mcp_host`` raises."""


class ManifestError(MCPHostError):
    """A server manifest is missing, unreadable or invalid."""

    def __init__(self, path: Path, field: str | None, message: str) -> None:
        self.path = path
        self.field = field
        self.message = message
        where = f"{path}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")


class DurationError(MCPHostError, ValueError):
    """A value is not a usable duration: unreadable, not positive, or longer than the caller allows."""

    def __init__(self, value: object, kind: Literal["unreadable", "not_positive", "too_long"], problem: str) -> None:
        self.value = value
        self.kind = kind
        self.problem = problem
        """Why, as the end of a sentence that starts with the value."""
        shown = value if isinstance(value, str) else str(value)
        super().__init__(f"{shown[:40]!r} {problem}")


class FramingError(MCPHostError):
    """Bytes from a peer could not be framed as a JSON-RPC message."""


class MessageTooLargeError(FramingError):
    """A message is larger than the configured bound."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"a message of {size} bytes exceeds the {limit}-byte limit; it was discarded "
            "(raise max_message_bytes if results this large are expected)"
        )


class ServerError(MCPHostError):
    """One downstream server failed."""

    def __init__(self, server: str, message: str) -> None:
        self.server = server
        super().__init__(message)


class ServerStartError(ServerError):
    """A server could not be started, or did not finish initialize + tools/list in time."""

    def __init__(self, server: str, message: str, *, timed_out: bool = False) -> None:
        self.timed_out = timed_out
        super().__init__(server, message)


class ServerCrashedError(ServerError):
    """A server exited while requests were in flight."""

    def __init__(self, server: str, message: str, returncode: int | None = None) -> None:
        self.returncode = returncode
        super().__init__(server, message)


class ServerTimeoutError(ServerError):
    """A server did not answer a request within its timeout."""

    def __init__(self, server: str, message: str, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(server, message)


class HostUnavailableError(MCPHostError):
    """``mcp call`` could not reach the host for a workspace, nor start one."""
