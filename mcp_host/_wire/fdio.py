"""Non-blocking byte streams over raw file descriptors (the host's stdin and stdout), without threads.

The MCP SDK reads stdio through a worker thread per read; the host is on the hot path of every tool call,
so it reads and writes the descriptors directly. On asyncio a pollable read side gets one persistent reader
callback (registered at the first wait, kept until close): it reads what arrives into a buffer and wakes the
task waiting in :meth:`FdStream.receive`, so a call costs no ``epoll_ctl`` and no task hop to read; past
:data:`_HIGH_WATER` unread bytes it pauses until the task catches up. Elsewhere, and for writes, it tries the
syscall and on ``EAGAIN`` waits for readiness with ``anyio.wait_readable``/``wait_writable``. Regular files
(not pollable) fall back to a worker thread. Blocking mode is restored on close, so a shell sharing the
descriptor is not left non-blocking.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import stat
from collections.abc import Callable

import anyio
import anyio.to_thread

__all__ = ["PIPE_BUF", "FdStream", "claim_stdio", "widen_pipe"]

_PIPE_BYTES = 1 << 20
PIPE_BUF = 4096
"""Linux's ``PIPE_BUF``: a pipe write of at most this many bytes is atomic (what ``select.PIPE_BUF`` says)."""
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_READ_BYTES = 1 << 20
_HIGH_WATER = 4 << 20
"""Unread bytes at which the persistent reader pauses (the reading task is behind)."""


def widen_pipe(fd: int) -> None:
    """Ask for a 1 MiB pipe buffer (the default 64 KiB splits a 64 KiB result into several wake-ups)."""
    with contextlib.suppress(OSError):
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_BYTES)


def _pollable(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


class FdStream:
    """Reads ``read_fd`` and writes ``write_fd`` as byte streams (a :class:`mcp_host._serve.session.Transport`).

    With ``own``, the descriptors are ours (pipes to a child) and are closed on close; otherwise (stdio) they
    are only switched back to blocking mode.
    """

    def __init__(self, read_fd: int = 0, write_fd: int = 1, *, own: bool = False) -> None:
        self._r = read_fd
        self._w = write_fd
        self._own = own
        self._r_open = self._w_open = True
        self._poll_r = _pollable(read_fd)
        self._poll_w = _pollable(write_fd)
        self._was_blocking = {fd: os.get_blocking(fd) for fd in {read_fd, write_fd}}
        if self._poll_r:
            os.set_blocking(read_fd, False)
        if self._poll_w:
            os.set_blocking(write_fd, False)
        widen_pipe(read_fd)
        widen_pipe(write_fd)
        # The persistent reader (asyncio only): what it read, how it ended, who waits.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reading = False
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._eof = False
        self._error: OSError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.on_data: Callable[[bytes], bool | None] | None = None
        """A synchronous consumer the persistent reader offers what it reads while nothing is buffered: it returns
        True when it handled all of it (the reading task is not woken), False when it kept what it could not
        handle (the task is woken with an empty chunk to handle that), None when it did not take the bytes
        (they are buffered for the task as usual)."""

    async def receive(self) -> bytes:
        while True:
            if not self._r_open:
                raise anyio.ClosedResourceError
            if self._chunks:
                return self._take()
            if self._error is not None:
                raise self._error
            if self._eof:
                raise anyio.EndOfStream
            if not self._poll_r:
                data = await anyio.to_thread.run_sync(os.read, self._r, _READ_BYTES)
            else:
                try:
                    data = os.read(self._r, _READ_BYTES)
                except BlockingIOError:
                    await self._wait_readable()
                    continue
            if not data:
                raise anyio.EndOfStream
            return data

    def _take(self) -> bytes:
        chunks, self._chunks, self._buffered = self._chunks, [], 0
        if not self._reading and not (self._eof or self._error) and self._loop is not None:
            self._start_reading(self._loop)  # paused at the high-water mark: caught up now
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _wait_readable(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not asyncio (trio): one readiness wait
            await anyio.wait_readable(self._r)
            return
        if self._loop is not loop:
            self._stop_reading()
            self._loop = loop
        if not self._reading:
            self._start_reading(loop)
        waiter = self._waiter = loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _start_reading(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.add_reader(self._r, self._on_readable)
        self._reading = True

    def _stop_reading(self) -> None:
        if self._reading and self._loop is not None:
            self._reading = False
            if not self._loop.is_closed():
                self._loop.remove_reader(self._r)

    def _on_readable(self) -> None:
        try:
            data = os.read(self._r, _READ_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:
            self._error = exc
            self._stop_reading()
        else:
            if not data:
                self._eof = True
                self._stop_reading()
            else:
                if self.on_data is not None and not self._chunks:
                    taken = self.on_data(data)
                    if taken:
                        return
                    if taken is False:
                        data = b""  # the consumer holds what is left: wake the task to handle it
                self._chunks.append(data)
                self._buffered += len(data)
                if self._buffered >= _HIGH_WATER:
                    self._stop_reading()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def read_available(self) -> bytes:
        """What can be read right now without waiting (a pollable pipe only); empty at EOF or when nothing is
        there. For the last output of a process that exited while something else holds its pipe open."""
        chunks, self._chunks, self._buffered = self._chunks, [], 0
        while self._r_open and self._poll_r and not self._eof:
            try:
                data = os.read(self._r, 1 << 20)
            except (BlockingIOError, OSError):
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)

    def try_send_atomic(self, data: bytes) -> bool:
        """Write ``data`` whole right now, or nothing: only for a pollable pipe and at most ``PIPE_BUF`` bytes,
        which POSIX writes atomically (a non-blocking write then either fits entirely or fails with EAGAIN).
        False means nothing was written; the caller falls back to :meth:`send`."""
        if not (self._w_open and self._poll_w) or len(data) > PIPE_BUF:
            return False
        try:
            written = os.write(self._w, data)
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            return False
        if written != len(data):  # not a pipe after all; never seen, but the rest must not be lost
            raise RuntimeError(f"a {len(data)}-byte atomic write wrote {written} bytes")
        return True

    async def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if not self._w_open:
                raise anyio.ClosedResourceError
            try:
                if self._poll_w:
                    written = os.write(self._w, view)
                else:
                    written = await anyio.to_thread.run_sync(os.write, self._w, view)
            except BlockingIOError:
                await anyio.wait_writable(self._w)
                continue
            except (BrokenPipeError, ConnectionResetError):
                raise anyio.BrokenResourceError from None
            view = view[written:]

    def close_writer(self) -> None:
        """Close the write side (the peer sees EOF) when owned; idempotent."""
        if self._w_open and self._own:
            self._w_open = False
            os.close(self._w)

    def close_reader(self) -> None:
        """Close the read side when owned; only the task that reads may call this. Idempotent."""
        self._stop_reading()
        if self._r_open and self._own:
            self._r_open = False
            os.close(self._r)

    async def aclose(self) -> None:
        if self._own:
            self.close_writer()
            self.close_reader()
            return
        self._stop_reading()
        for fd, blocking in self._was_blocking.items():
            try:
                os.set_blocking(fd, blocking)
            except OSError:
                pass


def claim_stdio() -> FdStream:
    """Take stdin/stdout for the protocol and point fds 0 and 1 at /dev/null and stderr.

    A stray ``print`` (ours, a library's) then lands on stderr instead of corrupting the wire, as the MCP SDK
    does for its servers. The returned stream owns private duplicates of the original descriptors.
    """
    read_fd, write_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return FdStream(read_fd, write_fd, own=True)
