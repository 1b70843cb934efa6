"""Runs this server is driving right now: each in the lifespan's task group, with its latest events.

The journal on disk is the record (a restarted server reads it through the library); this module only adds
what a live process knows and the disk does not yet: the phase in progress, the last events, and the means
to cancel. It never touches run files itself.
"""

from __future__ import annotations

import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.abc

from harnessgym.errors import HarnessgymError
from harnessgym.events import RunEvent

__all__ = ["EventSink", "LiveRun", "RunManager", "Work"]

EventSink = Callable[[RunEvent], Awaitable[None]]
Work = Callable[[EventSink], Awaitable[object]]
"""What a run does, given where to send its events: ``run_async`` or ``resume_async`` with bound arguments."""
_KEPT_EVENTS = 50
_CANCEL_WAIT_SECONDS = 30.0


@dataclass
class LiveRun:
    """One run in this process."""

    run_id: str
    workspace: Path
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)
    events: deque[RunEvent] = field(default_factory=lambda: deque(maxlen=_KEPT_EVENTS))
    event_count: int = 0
    error: str | None = None
    """Why the run stopped with an exception (the message; the traceback goes to the server's stderr)."""
    _changed: anyio.Event = field(default_factory=anyio.Event)

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    @property
    def last_event(self) -> RunEvent | None:
        return self.events[-1] if self.events else None

    async def record(self, event: RunEvent) -> None:
        self.events.append(event)
        self.event_count += 1
        self.notify()

    def notify(self) -> None:
        """Wake everyone waiting in :meth:`wait_change`."""
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    async def wait_change(self, timeout: float) -> None:
        """Return after the next event or the end of the run, or after ``timeout`` seconds."""
        changed = self._changed
        with anyio.move_on_after(timeout):
            await changed.wait()


def _describe(exc: BaseException) -> str:
    """The message of the error that stopped a run; task groups' wrapping is peeled off, our errors stay whole."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return str(exc) if isinstance(exc, HarnessgymError) else f"{type(exc).__name__}: {exc}"


class RunManager:
    """Starts runs in a task group it does not own (the server lifespan's) and remembers them by id."""

    def __init__(self, task_group: anyio.abc.TaskGroup) -> None:
        self._tg = task_group
        self._runs: dict[str, LiveRun] = {}

    def get(self, run_id: str) -> LiveRun | None:
        return self._runs.get(run_id)

    def all(self) -> list[LiveRun]:
        return list(self._runs.values())

    def launch(self, run_id: str, workspace: Path, work: Work) -> LiveRun:
        """Start ``work(on_event)`` in the background; it is this run until it returns, fails or is cancelled."""
        existing = self._runs.get(run_id)
        if existing is not None and existing.running:
            raise RuntimeError(f"run {run_id} is already running in this server")
        live = LiveRun(run_id=run_id, workspace=workspace)
        self._runs[run_id] = live
        self._tg.start_soon(self._drive, live, work, name=f"harnessgym run {run_id}")
        return live

    async def _drive(self, live: LiveRun, work: Work) -> None:
        try:
            with live.scope:
                await work(live.record)
        except Exception as exc:  # the control server's edge: a failed run must not take the server down
            traceback.print_exc()
            live.error = _describe(exc)
        finally:
            live.done.set()
            live.notify()

    async def cancel(self, live: LiveRun) -> bool:
        """Cancel a running run and wait (bounded) until the library has stopped the agent; False if it did not
        stop in time (it keeps stopping in the background)."""
        live.scope.cancel()
        with anyio.move_on_after(_CANCEL_WAIT_SECONDS):
            await live.done.wait()
        return live.done.is_set()
