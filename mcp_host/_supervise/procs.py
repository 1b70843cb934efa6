"""The one place that starts child processes.

Every child harnessgym starts (agent CLIs, verify and score commands, self-tests, MCP servers) goes through
this module, so three rules hold everywhere:

* the child leads its own process group (``start_new_session=True``), so it and whatever it starts can be
  killed together;
* its output is streamed to files as it arrives, never buffered whole in memory (a bounded tail is kept for
  messages);
* a timeout, a cancellation or the end of the leader kills the whole tree: the process group plus every
  descendant found through ``/proc``, with SIGTERM, a grace period, then SIGKILL;
* every child of :func:`run_process` carries ``HARNESSGYM_PROC_TAG=<random>`` in its environment, and when it
  ends, every process still carrying that tag is killed too. This catches what escapes both the group and the
  tree: Claude Code runs its Bash tool in a new session, so a backgrounded command is re-parented to init.

It must never leave a process behind, and never block the event loop.

Why by hand: ``anyio.run_process`` buffers all output and kills only the direct child on cancellation; the
MCP SDK's ``stdio_client`` kills the group but has no streaming to files or timeouts. Neither walks the tree.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

from mcp_host._paths import open_regular
from mcp_host._supervise.proctable import descendants
from mcp_host._supervise.trees import (
    DEFAULT_GRACE_SECONDS,
    PROC_TAG_VAR,
    SERVER_TAG_VAR,
    STOP_SIGNALS,
    cancel_on_signal,
    carries_tag,
    is_running,
    kill_tree,
    kill_tree_sync,
    reap,
    start_time,
    sweep_tagged,
    tagged_pids,
    wait_exited,
)

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "DEVNULL",
    "PIPE",
    "PROC_TAG_VAR",
    "SERVER_TAG_VAR",
    "STOP_SIGNALS",
    "ProcResult",
    "cancel_on_signal",
    "carries_tag",
    "descendants",
    "is_running",
    "kill_tree",
    "kill_tree_sync",
    "reap",
    "run_process",
    "spawn",
    "spawn_detached",
    "start_time",
    "sweep_tagged",
    "tagged_pids",
    "wait_exited",
]

log = logging.getLogger(__name__)

DEVNULL = subprocess.DEVNULL
"""For :func:`spawn`'s ``stdin``, ``stdout`` or ``stderr``: the null device."""
PIPE = subprocess.PIPE
"""For :func:`spawn`'s ``stdin``, ``stdout`` or ``stderr``: a pipe to the caller (the default)."""

_TAIL_BYTES = 16 * 1024
_DRAIN_SECONDS = 2.0
_POLL_SECONDS = 0.02


@dataclass
class ProcResult:
    """What happened to one child process."""

    argv: list[str]
    returncode: int | None
    """The exit code; negative for a signal; None when the process could not be started."""
    timed_out: bool
    duration_seconds: float
    stdout_path: Path | None = None
    stderr_path: Path | None = None
    stdout_tail: str = ""
    """The last 16 KiB of stdout, decoded leniently."""
    stderr_tail: str = ""
    error: str | None = None
    """Why the process could not be started (missing binary, argument list too long, ...)."""
    cancelled: bool = False
    """True when the caller was cancelled while the process ran (the tree was killed)."""
    pid: int | None = None
    swept: list[int] = field(default_factory=list)
    """Processes that escaped the tree (e.g. via ``setsid``) and were killed through the environment tag."""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out and self.returncode == 0


async def spawn(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: int | IO[bytes] | None = subprocess.PIPE,
    stdout: int | IO[bytes] | None = subprocess.PIPE,
    stderr: int | IO[bytes] | None = subprocess.PIPE,
) -> anyio.abc.Process:
    """Start a long-lived child in its own process group. The caller owns it and must :func:`kill_tree` it.

    Raises ``OSError`` when the program cannot be started, also for an argument, variable or cwd no program can
    be started with (a NUL byte, ``=`` in a variable's name), which ``subprocess`` reports as ``ValueError``."""
    try:
        return await anyio.open_process(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    except ValueError as exc:
        raise OSError(errno.EINVAL, f"invalid command line or environment: {exc}") from None


class _Sink:
    """Writes a stream to a file as it arrives, keeps a bounded tail, hands complete lines to a callback."""

    def __init__(self, path: Path | None, on_line: Callable[[str], None] | None) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None
        if path is not None:
            # Output files lie in folders the agent writes: never through a link, never into a FIFO (only the
            # tail is kept then).
            with contextlib.suppress(OSError):
                self._fh = os.fdopen(open_regular(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb")
        self._tail = bytearray()
        self._on_line = on_line
        self._partial = bytearray()

    def feed(self, chunk: bytes) -> None:
        if self._fh is not None:
            self._fh.write(chunk)
            self._fh.flush()
        self._tail += chunk
        if len(self._tail) > _TAIL_BYTES:
            del self._tail[: len(self._tail) - _TAIL_BYTES]
        if self._on_line is not None:
            self._partial += chunk
            while True:
                nl = self._partial.find(b"\n")
                if nl < 0:
                    break
                line = bytes(self._partial[:nl])
                del self._partial[: nl + 1]
                self._emit(line)
            if len(self._partial) > 64 * 1024 * 1024:  # a line this long is not a protocol line
                self._partial.clear()

    def _emit(self, line: bytes) -> None:
        if self._on_line is None:
            return
        text = line.decode("utf-8", errors="replace")
        try:
            self._on_line(text)
        except Exception:  # an observer's bug must not stop the output, which is on disk whatever happens
            log.exception("the line handler failed on %r; the next lines are still handed to it", text[:200])

    def close(self) -> None:
        if self._partial:
            self._emit(bytes(self._partial))
            self._partial.clear()
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    @property
    def tail(self) -> str:
        return bytes(self._tail).decode("utf-8", errors="replace")


async def _pump(stream: anyio.abc.ByteReceiveStream | None, sink: _Sink, done: anyio.Event) -> None:
    try:
        if stream is None:
            return
        buffered = BufferedByteReceiveStream(stream)
        while True:
            try:
                chunk = await buffered.receive(65536)
            except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                return
            sink.feed(chunk)
    finally:
        sink.close()
        done.set()


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stdout_path: Path | None = None,
    stderr_path: Path | None = None,
    stdin_path: Path | None = None,
    on_stdout_line: Callable[[str], None] | None = None,
    on_stderr_line: Callable[[str], None] | None = None,
    grace: float = DEFAULT_GRACE_SECONDS,
) -> ProcResult:
    """Run ``argv`` to completion in its own process group and return what happened.

    * stdin is ``stdin_path`` (a file, so the child sees EOF) or /dev/null; never an open pipe, because some
      agent CLIs wait for EOF on stdin.
    * stdout and stderr go to ``stdout_path``/``stderr_path`` as they arrive; ``on_stdout_line`` sees every
      complete stdout line (for streamed JSON events).
    * On ``timeout`` the tree is killed and ``timed_out`` is set. If the caller is cancelled, the tree is
      killed before the cancellation propagates.
    * When the leader exits, whatever it left in its group or below it is killed too.
    * A program that cannot be started gives ``returncode=None`` and ``error``, not an exception.
    """
    argv = [str(a) for a in argv]
    tag = uuid.uuid4().hex
    env = {**(os.environ if env is None else env), PROC_TAG_VAR: tag}
    for path in (stdout_path, stderr_path):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    out = _Sink(stdout_path, on_stdout_line)
    err = _Sink(stderr_path, on_stderr_line)
    started = time.monotonic()
    stdin_fh: IO[bytes] | None = None
    try:
        stdin_fh = open(stdin_path, "rb") if stdin_path is not None else None
        proc = await spawn(
            argv,
            cwd=cwd,
            env=env,
            stdin=stdin_fh if stdin_fh is not None else subprocess.DEVNULL,
        )
    except OSError as exc:
        out.close()
        err.close()
        if stdin_fh is not None:
            stdin_fh.close()
        hint = ""
        if getattr(exc, "errno", None) == 7:  # E2BIG
            hint = " (the argument list is longer than the OS allows; pass long input through a file)"
        return ProcResult(
            argv=argv,
            returncode=None,
            timed_out=False,
            duration_seconds=time.monotonic() - started,
            stdout_path=stdout_path,
            stderr_path=stderr_path,
            error=f"could not start {argv[0]!r}: {exc.strerror or exc}{hint}",
        )
    timed_out = False
    cancelled = False
    swept: list[int] = []
    out_done, err_done = anyio.Event(), anyio.Event()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_pump, proc.stdout, out, out_done)
            tg.start_soon(_pump, proc.stderr, err, err_done)
            try:
                with anyio.move_on_after(timeout) as scope:
                    await proc.wait()
                if scope.cancelled_caught:
                    timed_out = True
            except anyio.get_cancelled_exc_class():
                cancelled = True
                raise
            finally:
                # The leader is done (or must be): nothing it started may outlive it.
                await kill_tree(proc.pid, grace)
                swept = await sweep_tagged(tag, grace)
                with anyio.CancelScope(shield=True):
                    with anyio.move_on_after(grace + 1):
                        await proc.wait()
                    # Pipes held open by an escaped grandchild must not hang us: drain, bounded.
                    with anyio.move_on_after(_DRAIN_SECONDS):
                        await out_done.wait()
                        await err_done.wait()
                    tg.cancel_scope.cancel()
    finally:
        out.close()
        err.close()
        if stdin_fh is not None:
            stdin_fh.close()
        with anyio.CancelScope(shield=True):
            await proc.aclose()
    return ProcResult(
        argv=argv,
        returncode=proc.returncode,
        timed_out=timed_out,
        duration_seconds=time.monotonic() - started,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
        stdout_tail=out.tail,
        stderr_tail=err.tail,
        cancelled=cancelled,
        pid=proc.pid,
        swept=swept,
    )


def _append_log(path: Path) -> IO[bytes] | None:
    """``path`` opened for appending, never through a link or into a FIFO planted there (then: no log)."""
    try:
        return os.fdopen(open_regular(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND), "ab")
    except OSError:
        return None


def spawn_detached(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    stdout_path: Path | None = None,
    hold_signals: Collection[int] = (),
) -> int:
    """Start a process that outlives the caller, in its own session, stdin on /dev/null, stderr to ``log_path``
    and stdout to ``stdout_path`` (or /dev/null), no other descriptor of ours, ``hold_signals`` blocked until it
    unblocks them; return its pid. It ends on its own; a caller that lives on collects its exit (:func:`reap`,
    :func:`wait_exited`), else init does."""
    for path in (p for p in (log_path, stdout_path) if p is not None):
        path.parent.mkdir(parents=True, exist_ok=True)
    files = [_append_log(path) if path is not None else None for path in (log_path, stdout_path)]
    held = signal.pthread_sigmask(signal.SIG_BLOCK, hold_signals)  # the child inherits the mask across exec
    try:
        proc = subprocess.Popen(
            [str(a) for a in argv],
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=files[1] or subprocess.DEVNULL,
            stderr=files[0] or subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        for fh in (f for f in files if f is not None):
            fh.close()
    proc.returncode = 0  # not waited for here (see above); this keeps Popen from warning that it still runs
    return proc.pid
