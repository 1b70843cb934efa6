"""The workspace lock: one run per workspace, released by the OS when the holder dies."""

from __future__ import annotations

import errno
import fcntl
import os
import stat

from harnessgym.errors import WorkspaceLockedError, WorkspaceNotWritableError
from harnessgym.store.files import read_regular
from harnessgym.store.layout import Layout

__all__ = ["WorkspaceLock", "lock_holder", "lock_holder_run", "lock_is_held"]


class WorkspaceLock:
    """An exclusive ``flock`` on ``.harnessgym/lock``; the OS releases it when the holder dies, even by kill -9."""

    def __init__(self, layout: Layout, fd: int) -> None:
        self.layout = layout
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, layout: Layout, run_id: str) -> WorkspaceLock:
        layout.root.mkdir(parents=True, exist_ok=True)
        fd = _open_lock_file(layout)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown holder"
            os.close(fd)
            raise WorkspaceLockedError(layout.workspace, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} run {run_id}\n".encode(), 0)
        return cls(layout, fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _open_lock_file(layout: Layout) -> int:
    """The lock file, opened read-write; a symlink, FIFO or anything else put in its place is replaced first, so
    taking the lock never writes through a link to someone's file nor waits on a pipe."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    for _ in range(3):
        try:
            fd = os.open(layout.lock, flags, 0o644)
        except OSError as exc:
            if exc.errno != errno.ELOOP:  # ELOOP: the lock is a symlink
                raise
        else:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                os.set_blocking(fd, True)
                return fd
            os.close(fd)
        layout.lock.unlink(missing_ok=True)
    raise WorkspaceNotWritableError(layout.workspace, f"{layout.lock} keeps being replaced by something not a file")


def lock_is_held(layout: Layout) -> bool:
    """Whether some run holds the workspace right now (works across processes and within one)."""
    try:
        fd = os.open(layout.lock, os.O_RDONLY | os.O_NONBLOCK)  # never wait on a FIFO an agent put there
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def lock_holder_run(layout: Layout) -> str | None:
    """The run id the last lock holder wrote into the lock file."""
    holder = _written_holder(layout)
    return holder[1] if holder is not None else None


def lock_holder(layout: Layout) -> tuple[int, str] | None:
    """``(pid, run_id)`` of the process holding the workspace now; None when nobody holds it.

    Only a held lock counts: the OS releases it when its holder dies, so the pid cannot have been reused.
    """
    if not lock_is_held(layout):
        return None
    return _written_holder(layout)


def _written_holder(layout: Layout) -> tuple[int, str] | None:
    try:
        parts = read_regular(layout.lock, limit=4096).decode("utf-8", errors="replace").split()
    except OSError:
        return None
    if len(parts) >= 4 and parts[0] == "pid" and parts[1].isdigit() and parts[2] == "run":
        return int(parts[1]), parts[3]
    return None
