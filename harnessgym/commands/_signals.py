"""Running a command's one library call so that Ctrl-C or SIGTERM cancels it.

The cancellation is the library's cue to kill the agent's process tree and record the interruption; the
command then reads back what was recorded. The signal watcher itself is :func:`mcp_host.cancel_on_signal`.
"""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["run_until_signalled"]

T = TypeVar("T")


def run_until_signalled(start: Callable[[], Awaitable[T]], on_signal: Callable[[signal.Signals], None]) -> T | None:
    """Run ``start()`` under anyio; SIGINT or SIGTERM cancel it (after ``on_signal``) and give None.

    A :class:`~harnessgym.errors.HarnessgymError` or :class:`OSError` (a full disk, a refused write) it raises is
    raised again, unwrapped from the task group, so the command can say it in one line.
    """
    import anyio

    from harnessgym.errors import HarnessgymError
    from mcp_host import cancel_on_signal

    result: list[T] = []
    failure: list[HarnessgymError | OSError] = []

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(cancel_on_signal, tg.cancel_scope, (signal.SIGINT, signal.SIGTERM), on_signal)
            try:
                result.append(await start())
            except (HarnessgymError, OSError) as exc:  # raised again outside the task group, unwrapped
                failure.append(exc)
            tg.cancel_scope.cancel()

    anyio.run(main)
    if failure:
        raise failure[0]
    return result[0] if result else None
