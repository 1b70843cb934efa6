"""Keep the secrets harnessgym holds out of reach of the agent-written code it runs.

The process that drives a run must hold the agent CLI's key (it starts the CLI), and it also runs verify
commands, self-tests and score commands: agent-written code, as the same user. Those get a scrubbed
environment, but they could still read ``/proc/<harnessgym's pid>/environ``, which the kernel serves to any
process of the same user. :func:`seal_environ` marks the process non-dumpable (``PR_SET_DUMPABLE`` 0): its
``/proc`` files then belong to root and need ``CAP_SYS_PTRACE`` to read, and ptrace is refused too. Children
are dumpable again once they exec, so nothing else changes for them. A process with ``CAP_SYS_PTRACE`` (root
with its capabilities) can read every process anyway; that is outside what any user-level measure can stop.

Only the standard library: the CLI calls this before anything heavy is imported.
"""

from __future__ import annotations

import sys

__all__ = ["seal_environ"]

_PR_SET_DUMPABLE = 4
_sealed = False


def seal_environ() -> bool:
    """Make this process's ``/proc/<pid>/environ`` (and memory) unreadable to same-user processes; idempotent.

    Returns whether the process is sealed (False where the kernel offers no ``prctl``)."""
    global _sealed
    if _sealed:
        return True
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _sealed = bool(libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
    return _sealed
