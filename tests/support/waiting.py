"""Waiting in tests for what another process does: poll a condition, bounded, instead of a fixed sleep.

Use it only where nothing can be awaited (a file another process writes, a process leaving ``/proc``);
inside one process, wait on the event itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

__all__ = ["POLL_SECONDS", "wait_for_file", "wait_until"]

POLL_SECONDS = 0.05


async def wait_until(condition: Callable[[], object], seconds: float = 30.0, what: str = "the condition") -> None:
    """Return as soon as ``condition()`` is true; fail the test after ``seconds`` saying what never happened."""
    try:
        with anyio.fail_after(seconds):
            while not condition():  # noqa: ASYNC110 - another process's doing: there is nothing else to wait on
                await anyio.sleep(POLL_SECONDS)
    except TimeoutError:
        pytest.fail(f"{what} did not happen within {seconds:g} s")


async def wait_for_file(path: Path, seconds: float = 30.0) -> None:
    """Wait for ``path`` to exist (a marker another process writes)."""
    await wait_until(path.exists, seconds, f"{path} to appear")
