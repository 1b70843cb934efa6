"""Run events: an observer's failure is logged, never swallowed, and never stops the run or its later events."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest
from support.loop import VERIFY, config, example_workspace

from harnessgym import RunEvent, run_async

pytestmark = pytest.mark.anyio


async def test_an_event_handler_that_fails_is_logged_and_the_run_and_its_later_events_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ws = example_workspace(tmp_path)
    seen: list[str] = []

    def on_event(event: RunEvent) -> None:
        seen.append(event.kind)
        if event.kind == "phase_started":
            raise RuntimeError("an observer bug")

    with caplog.at_level(logging.ERROR, logger="harnessgym.events"), anyio.fail_after(60):
        summary = await run_async(config(ws, tmp_path, verify_command=VERIFY), on_event)

    assert (summary.status, summary.solved_iteration) == ("solved", 2)
    failures = [r for r in caplog.records if r.name == "harnessgym.events"]
    assert len(failures) == seen.count("phase_started") >= 4
    assert all("failed on phase_started" in r.getMessage() and r.exc_info is not None for r in failures)
    assert seen[-1] == "run_finished" and "phase_finished" in seen
