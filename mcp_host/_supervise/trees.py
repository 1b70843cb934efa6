"""Process trees: finding a process's group and descendants, killing them (SIGTERM, grace, SIGKILL), the tags
children inherit and the sweep of what escaped, and turning stop signals into a cancellation. Part of the one
process helper (:mod:`mcp_host._supervise.procs` re-exports all of it); it starts no process.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Sequence

import anyio
import anyio.abc

from mcp_host._supervise import proctable
from mcp_host._supervise.proctable import alive, process_table, scan_environ

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "PROC_TAG_VAR",
    "SERVER_TAG_VAR",
    "STOP_SIGNALS",
    "cancel_on_signal",
    "carries_tag",
    "is_running",
    "kill_tree",
    "kill_tree_sync",
    "reap",
    "start_time",
    "sweep_tagged",
    "tagged_pids",
    "wait_exited",
]

log = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 2.0
"""How long a process tree gets between SIGTERM and SIGKILL."""

PROC_TAG_VAR = "HARNESSGYM_PROC_TAG"
"""Set in the environment of every :func:`run_process` child; every process carrying it dies with the child.
(Named without KEY/TOKEN/SECRET, which some agent CLIs strip from the commands they run.)"""
SERVER_TAG_VAR = "HARNESSGYM_SERVER_TAG"
"""Set for each start of a supervised MCP server, so what it detaches (``setsid``) dies with it."""

_POLL_SECONDS = 0.02


def _signal_all(pgid: int, pids: Sequence[int], sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _tree(pid: int) -> list[int]:
    """``pid``, its process group's members, and every descendant of any of them: from one read of /proc."""
    table = process_table()
    children: dict[int, list[int]] = {}
    for child, parent, _ in table:
        children.setdefault(parent, []).append(child)
    found = {pid} | {member for member, _, group in table if group == pid}
    stack = list(found)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return sorted(p for p in found if p != os.getpid())


def kill_tree_sync(pid: int, grace: float = DEFAULT_GRACE_SECONDS) -> list[int]:
    """Kill ``pid``'s process group and all its descendants; return the pids signalled. Blocking: for signal
    handlers and ``atexit``; async code uses :func:`kill_tree`."""
    pids = _tree(pid)
    _signal_all(pid, pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return pids
        time.sleep(_POLL_SECONDS)
    survivors = [p for p in _tree(pid) if alive(p)] + [p for p in pids if alive(p)]
    _signal_all(pid, survivors, signal.SIGKILL)
    return pids


async def kill_tree(pid: int, grace: float = DEFAULT_GRACE_SECONDS) -> list[int]:
    """Kill ``pid``'s process group and all its descendants: SIGTERM, up to ``grace`` seconds, SIGKILL.

    Safe to call on a process that already exited (its group may still have members). Shielded from
    cancellation, because leaving the tree alive is never the right outcome.
    """
    pids: list[int] = []
    with anyio.CancelScope(shield=True):
        pids = _tree(pid)
        _signal_all(pid, pids, signal.SIGTERM)
        await _wait_gone(pids, grace)
        survivors = [p for p in {*_tree(pid), *pids} if alive(p)]
        if survivors:
            _signal_all(pid, survivors, signal.SIGKILL)
            await _wait_gone(survivors, grace)
    return pids


def carries_tag(pid: int, tag: str) -> bool:
    """Whether ``pid``'s initial environment holds ``PROC_TAG_VAR=tag``."""
    return proctable.environ(pid, [PROC_TAG_VAR]).get(PROC_TAG_VAR) == tag


def is_running(pid: int) -> bool:
    """Whether ``pid`` exists and has not ended (a zombie has ended)."""
    return alive(pid)


def tagged_pids(tag: str, var: str = PROC_TAG_VAR) -> list[int]:
    """Every live process whose initial environment carries ``<var>=tag`` (default :data:`PROC_TAG_VAR`)."""
    return [pid for pid, env in scan_environ([var]) if env.get(var) == tag]


def start_time(pid: int) -> int | None:
    """When ``pid`` started (field 22 of /proc/<pid>/stat, ticks since boot): with the pid, one process for good."""
    return proctable.start_time(pid)


def reap(pid: int) -> bool:
    """Collect the exit of ``pid`` if it is our child and has ended, so it leaves no zombie; True if collected."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child (or already collected): init or its own parent reaps it
        return False
    return done == pid


async def wait_exited(pid: int, timeout: float | None = None) -> bool:
    """Wait (through a pidfd) until ``pid``, any process, has ended, up to ``timeout`` seconds; True if it has."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        with anyio.move_on_after(timeout):
            await anyio.wait_readable(fd)
    finally:
        anyio.notify_closing(fd)
        os.close(fd)
    return not alive(pid)


async def sweep_tagged(tag: str, grace: float = 1.0, var: str = PROC_TAG_VAR) -> list[int]:
    """Kill every process (and its tree) whose environment carries ``<var>=tag``; return their pids."""
    killed: list[int] = []
    with anyio.CancelScope(shield=True):
        for _ in range(3):  # a dying tree may spawn once more; a few passes settle it
            pids = [p for p in tagged_pids(tag, var) if p not in killed]
            if not pids:
                break
            for pid in pids:
                await kill_tree(pid, grace=grace)
            killed.extend(pids)
    return killed


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""What asks a long-lived process of ours to stop: ``kill``, Ctrl-C, a closed terminal."""


async def cancel_on_signal(
    scope: anyio.CancelScope,
    signals: Sequence[signal.Signals] = STOP_SIGNALS,
    on_signal: Callable[[signal.Signals], None] | None = None,
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Cancel ``scope`` at the first of ``signals``, after telling ``on_signal`` which one came.

    Start it in the task group whose scope it cancels: the one way harnessgym's commands, its job workers,
    ``serve`` and the host turn a signal into a cancellation, which kills process trees and records
    interruptions on its way out. ``await tg.start(...)`` returns once the signals are caught, so a process
    that held them blocked may unblock them then.
    """
    with anyio.open_signal_receiver(*signals) as received:
        task_status.started()
        async for signum in received:
            if on_signal is not None:
                on_signal(signal.Signals(signum))
            scope.cancel()
            return


async def _wait_gone(pids: Sequence[int], limit: float) -> None:
    # Polling: these are not all our children, so there is nothing to wait on but /proc.
    with anyio.move_on_after(limit):
        while any(alive(p) for p in pids):  # noqa: ASYNC110
            await anyio.sleep(_POLL_SECONDS)
