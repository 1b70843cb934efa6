"""How a command ends: exit codes that say what happened, and environment failures as one line.

- A signal that stops a run or comparison exits ``128 + signum`` (130 for SIGINT, 143 for SIGTERM), also when
  it lands before the command installed its handler: :func:`early_signals` turns SIGINT and SIGTERM into
  :class:`EarlySignal` from the very start, so the command can still say how to resume.
- Errors from deep inside task groups arrive wrapped in (nested) exception groups; :func:`leaf_error` finds
  the one that explains the failure, so a full disk is one line naming the file and the space it needed,
  never a traceback.
"""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

__all__ = ["EarlySignal", "early_signals", "environment_message", "leaf_error", "signal_exit_code"]


class EarlySignal(BaseException):
    """SIGINT or SIGTERM before (or after) the command's own handler was in place."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise EarlySignal(signum)


def early_signals() -> None:
    """From now on SIGINT and SIGTERM raise :class:`EarlySignal` wherever the command is (anyio's signal
    receiver takes over while a run goes, and gives them back when it ends)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _raise)


def signal_exit_code(signum: int) -> int:
    return 128 + signum


def leaf_error(exc: BaseException) -> BaseException:
    """The error that explains ``exc``: the first harnessgym error or OSError inside (nested) groups, else the
    first leaf."""
    from harnessgym.errors import HarnessgymError

    if not isinstance(exc, BaseExceptionGroup):
        return exc
    leaves: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if isinstance(current, BaseExceptionGroup):
            pending = list(current.exceptions) + pending
        else:
            leaves.append(current)
    for leaf in leaves:
        if isinstance(leaf, HarnessgymError | OSError | EarlySignal | KeyboardInterrupt):
            return leaf
    return leaves[0] if leaves else exc


def environment_message(exc: OSError, workspace: Path, kept: str) -> str:
    """One line for an OSError the environment raised mid-command; a full disk names the file and the space."""
    from harnessgym.errors import NO_SPACE_ERRNOS, DiskFullError

    if isinstance(exc, DiskFullError):
        return str(exc)
    if exc.errno in NO_SPACE_ERRNOS:
        return str(DiskFullError(Path(exc.filename) if exc.filename else workspace))
    return f"{exc}; {kept}"
