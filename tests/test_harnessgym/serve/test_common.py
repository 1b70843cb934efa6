"""A tool that waits on a job relays every event the job wrote, the last ones too: a worker that writes its final
events and exits while the previous notification is still on its way to a slow client loses none of them."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from harnessgym.jobs import JobRecord
from harnessgym.jobs.models import JobEvent, ResumeJob
from harnessgym.serve._common import wait_with_progress
from mcp_host import PROC_TAG_VAR, kill_tree, spawn, start_time

pytestmark = pytest.mark.anyio

WORKER = """import sys, time
events = sys.argv[1]
def write(seq, message):
    with open(events, "a") as fh:
        fh.write('{"seq": %d, "message": "%s"}\\n' % (seq, message))
time.sleep(0.3)
write(1, "iteration 1: attempt")
time.sleep(0.3)  # the relay of the first is still going on: the client is slow
write(2, "iteration 1: reflection")
write(3, "iteration 1: build")
"""


class _SlowClient:
    def __init__(self) -> None:
        self.messages: list[str | None] = []

    async def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        self.messages.append(message)
        if len(self.messages) == 1:
            await anyio.sleep(1.5)  # the worker writes its last events and exits meanwhile


async def test_the_events_a_job_wrote_on_its_way_out_are_relayed(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("")
    tag = "job-test-follow"
    proc = await spawn([sys.executable, "-c", WORKER, str(events)], env={**os.environ, PROC_TAG_VAR: tag})
    try:
        record = JobRecord(
            job_id="run-test", kind="run", key="r1", folder=tmp_path, job_dir=tmp_path,
            spec=ResumeJob(workspace=tmp_path, run_id="r1"),
            pid=proc.pid, proc_start=start_time(proc.pid), tag=tag, stdout_log=tmp_path / "out",
            stderr_log=tmp_path / "err", events_path=events,
        )  # fmt: skip
        client = _SlowClient()
        ctx: Any = client
        with anyio.fail_after(20):
            await wait_with_progress(ctx, record, 15)
        assert client.messages == ["iteration 1: attempt", "iteration 1: reflection", "iteration 1: build"]
        assert [JobEvent.model_validate_json(line).seq for line in events.read_text().splitlines()] == [1, 2, 3]
    finally:
        await kill_tree(proc.pid, grace=1.0)
        await proc.aclose()
