"""A trial's run events across a process boundary, for the live display of ``--executor process`` and ``ray``.

The trial worker appends each event of its run to ``TRIAL_DIR/events.jsonl`` as it happens. Whoever started
the worker reads them back while it runs: the process executor in this process, a Ray worker on its node, which
passes them on to the comparison through a Ray queue. They are for the display only; nothing is decided on
them. The file is in a folder the trial's agent can write, so a line that is not an event is skipped and a
line is bounded.
"""

from __future__ import annotations

import inspect
import os
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import anyio
from pydantic import ValidationError

from harnessgym.events import EventHandler, RunEvent

__all__ = ["EVENTS_NAME", "append_event", "deliver", "following", "parse_event"]

EVENTS_NAME = "events.jsonl"
_MAX_LINE = 64 * 1024
_MAX_READ = 1 << 20
_POLL_SECONDS = 0.2
T = TypeVar("T")


def append_event(path: Path) -> Callable[[RunEvent], None]:
    """An event handler that appends each event to ``path`` as one JSON line (a write of its own each)."""

    def on_event(event: RunEvent) -> None:
        line = event.model_dump_json() + "\n"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line)

    return on_event


def parse_event(line: str) -> RunEvent | None:
    """The event a line holds, or None for anything else."""
    if len(line) > _MAX_LINE:
        return None
    try:
        return RunEvent.model_validate_json(line)
    except (ValidationError, ValueError):
        return None


async def deliver(on_event: EventHandler, lines: list[str]) -> None:
    """Hand every event among ``lines`` to ``on_event`` (sync or async); a failing handler loses only that event."""
    for line in lines:
        event = parse_event(line)
        if event is None:
            continue
        try:
            result = on_event(event)
            if inspect.isawaitable(result):
                await result
        except Exception:  # the display's bug must not stop the trial
            continue


async def following(path: Path, on_lines: Callable[[list[str]], object] | None, work: Callable[[], Awaitable[T]]) -> T:
    """``await work()`` (the trial worker), meanwhile passing the lines appended to ``path`` to ``on_lines``, and
    those written just before it ended; with ``on_lines`` None, only ``work()``."""
    done = anyio.Event()
    async with anyio.create_task_group() as tg:
        if on_lines is not None:
            tg.start_soon(_follow_lines, path, on_lines, done)
        try:
            result = await work()
        finally:
            done.set()
    return result


async def _follow_lines(path: Path, on_lines: Callable[[list[str]], object], done: anyio.Event) -> None:
    """Pass the lines appended to ``path`` to ``on_lines`` as they come, until ``done`` is set, and then once
    more (what was written just before). Only a regular file is read, never through a link; a partial last line
    waits for its end."""
    offset, partial = 0, b""
    while True:
        finished = done.is_set()
        chunk = _read_from(path, offset)
        if chunk:
            offset += len(chunk)
            *complete, partial = (partial + chunk).split(b"\n")
            if len(partial) > _MAX_LINE:
                partial = b""  # a line without end that outgrew any event: dropped
            lines = [c.decode("utf-8", "replace") for c in complete if c.strip()]
            if lines:
                result = on_lines(lines)
                if inspect.isawaitable(result):
                    await result
        if finished:
            return
        with anyio.move_on_after(_POLL_SECONDS):
            await done.wait()


def _read_from(path: Path, offset: int) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.pread(fd, _MAX_READ, offset)
    finally:
        os.close(fd)
