"""A bounded log file for a child's stderr: it rotates once past its limit, and keeps a short tail in memory.

A server that floods stderr (200 KB during one call, or forever) must neither fill the disk nor block: the
drain task writes every chunk as it arrives; past ``max_bytes`` the file is moved to ``<name>.1`` (replacing
the previous one) and a new file starts, so at most twice the limit is on disk.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["BoundedLog"]


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
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            self._size = os.fstat(self._fd).st_size

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
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
            self._size = 0
            data = data[-self.max_bytes :]
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
