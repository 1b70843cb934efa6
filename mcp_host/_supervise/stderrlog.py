"""A bounded log file for a child's stderr: it rotates once past its limit, and keeps a short tail in memory.

A server that floods stderr (200 KB during one call, or forever) must neither fill the disk nor block: the
drain task writes every chunk as it arrives; past ``max_bytes`` the file is moved to ``<name>.1`` (replacing
the previous one) and a new file starts, so at most twice the limit is on disk.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mcp_host._paths import open_regular

__all__ = ["BoundedLog"]

log = logging.getLogger(__name__)


class BoundedLog:
    """Append-only log file of bounded size with an in-memory tail for error messages."""

    def __init__(self, path: Path | None, max_bytes: int = 1024 * 1024, tail_bytes: int = 4096) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._tail = bytearray()
        self._tail_bytes = tail_bytes
        self._fd: int | None = None
        self._size = 0
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = self._open(os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            self._size = os.fstat(self._fd).st_size if self._fd is not None else 0

    def _open(self, flags: int) -> int | None:
        """The log file, only as a regular file reached without a link: a FIFO planted there would block the
        host for good, a symlink would append a server's stderr anywhere. Otherwise only the tail is kept."""
        assert self.path is not None
        try:
            return open_regular(self.path, flags)
        except OSError as exc:
            log.warning("not writing %s (%s); keeping only the tail of that stderr", self.path, exc.strerror or exc)
            return None

    def write(self, data: bytes, *, tail: bool = True) -> None:
        if tail:
            self._tail += data
            if len(self._tail) > self._tail_bytes:
                del self._tail[: len(self._tail) - self._tail_bytes]
        if self._fd is None or self.path is None:
            return
        if self._size + len(data) > self.max_bytes:
            os.close(self._fd)
            os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            self._fd = self._open(os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND)
            self._size = 0
            data = data[-self.max_bytes :]
            if self._fd is None:
                return
        os.write(self._fd, data)
        self._size += len(data)

    def note(self, text: str) -> None:
        """Record a line from harnessgym itself (skipped junk, restarts), marked as such."""
        self.write(f"[harnessgym] {text}\n".encode(errors="replace"), tail=False)

    @property
    def tail(self) -> str:
        return bytes(self._tail).decode("utf-8", errors="replace")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
