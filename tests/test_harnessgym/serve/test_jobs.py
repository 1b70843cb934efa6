"""Jobs outlive their client: a run or a comparison started through ``harnessgym serve`` over stdio goes on
in its own job worker after the client process is killed (SIGKILL) right after the start call returned, and
a second ``serve`` follows it to its end from disk, or stops it by its verified pid.

The client is a process of its own (``support/serve_starter.py``, the real SDK client over stdio), so killing
it is what a ``claude -p`` session ending does to its ``serve``: the serve's stdin closes and it exits. The
fake agent waits in its attempt for a ``go`` file the test writes once the client is dead, so the job
demonstrably outlived it. Workers whose serve died are no longer our descendants, so each test waits for them
to end (and kills any left) itself.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp import Client, StdioServerParameters
from support.compare import USE_FIXER_IF_PRESENT, fixer_entry
from support.compare import artifact_source as make_source
from support.loop import script, step
from support.serve_client import EXAMPLE, VERIFY, call

import harnessgym as hg
from harnessgym.jobs import JOBS, JobRecord, ResumeJob
from mcp_host._supervise.procs import (
    DEVNULL,
    PIPE,
    PROC_TAG_VAR,
    kill_tree,
    spawn,
    start_time,
    sweep_tagged,
    tagged_pids,
    wait_exited,
)

pytestmark = pytest.mark.anyio

STARTER = Path(__file__).resolve().parents[2] / "support" / "serve_starter.py"


def serve_argv(tmp_path: Path, root: Path) -> list[str]:
    return [sys.executable, "-m", "harnessgym", "serve", "--allow-root", str(root), "--state-dir",
            str(tmp_path / "state")]  # fmt: skip


def second_serve(tmp_path: Path, root: Path) -> Client:
    argv = serve_argv(tmp_path, root)
    params = StdioServerParameters(command=argv[0], args=argv[1:], cwd=str(tmp_path), env=dict(os.environ))
    return Client(params, read_timeout_seconds=90)


@asynccontextmanager
async def killed_client(tmp_path: Path, root: Path, tool: str, **arguments: Any) -> AsyncIterator[dict[str, Any]]:
    """A client process calls ``tool`` through its own ``serve``; once the answer is printed the client is
    SIGKILLed (no goodbye to its serve), and its serve exits. Yields the answer. Should the test fail half way,
    whatever is left of that client's serve is killed (it carries the client's tag; a job worker its own)."""
    tag = uuid.uuid4().hex
    spec = {"serve": serve_argv(tmp_path, root), "cwd": str(tmp_path), "tool": tool, "arguments": arguments}
    with open(tmp_path / "starter.stderr.txt", "wb") as err:
        proc = await spawn([sys.executable, str(STARTER), json.dumps(spec)], env={**os.environ, PROC_TAG_VAR: tag},
                           stdin=DEVNULL, stdout=PIPE, stderr=err)  # fmt: skip
    try:
        assert proc.stdout is not None
        with anyio.fail_after(60):
            line = await BufferedByteReceiveStream(proc.stdout).receive_until(b"\n", 1 << 20)
        os.kill(proc.pid, signal.SIGKILL)
        with anyio.fail_after(30):
            await proc.wait()
            # Its serve sees its stdin close and exits by itself (until then, its workers are its children).
            for pid in tagged_pids(tag):
                await wait_exited(pid)
        answer = json.loads(line)
        assert "error" not in answer, answer
        yield answer
    finally:
        await kill_tree(proc.pid, grace=0.5)
        await proc.aclose()
        await sweep_tagged(tag, grace=0.5)


async def stop_workers(folder: Path) -> None:
    """Kill any job worker still running in ``folder`` (only when a test failed half way)."""
    for job in JOBS.jobs(folder):
        if JOBS.is_alive(job):
            await kill_tree(job.pid, grace=0.5)


async def ended(job: JobRecord) -> JobRecord:
    with anyio.fail_after(30):
        job = await JOBS.wait(job)
    assert not JOBS.is_alive(job)
    return job


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(EXAMPLE, root / "task")
    return root


def waiting_script(root: Path, go: Path) -> str:
    """An attempt that waits for ``go``, then writes done.txt and claims success."""
    return str(script(root, step("attempt", {"do": "wait_for", "path": str(go)},
                                 {"do": "write", "path": "done.txt", "text": "ok"},
                                 {"do": "result", "set": {"status": "solved"}})))  # fmt: skip


async def test_a_run_started_over_stdio_finishes_solved_after_its_client_is_killed(tmp_path: Path, root: Path) -> None:
    ws, go = root / "task", tmp_path / "go"
    try:
        async with killed_client(tmp_path, root, "start_run", workspace="task", task_text="write done.txt",
                                 verify_command="test -f done.txt", iterations=1,
                                 runner_options={"fake_script": waiting_script(root, go)}) as started:  # fmt: skip
            run_id = started["run_id"]
        # The client and its serve are gone; the run is not: its worker waits in the attempt.
        [job] = JOBS.jobs(ws, "run", run_id)
        assert JOBS.is_alive(job) and hg.get_run(ws, run_id).status == "running"
        go.write_text("go")
        async with second_serve(tmp_path, root) as second:
            with anyio.fail_after(90):
                view = await call(second, "get_run", run_id=run_id, wait_seconds=80)
            assert (view["run"]["status"], view["run"]["evidence"], view["live"]) == ("solved", "verified", False)
            assert view["last_event"]["kind"] == "run_finished" and view["error"] is None
            listing = await call(second, "list_runs", workspace="task")
            assert [(r["run_id"], r["status"]) for r in listing["runs"]] == [(run_id, "solved")]
        job = await ended(job)
        assert (job.status, job.outcome is not None and job.outcome.began) == ("finished", True)
    finally:
        await stop_workers(ws)


async def test_a_comparison_started_over_stdio_reaches_its_verdict_after_its_client_is_killed(
    tmp_path: Path, root: Path
) -> None:
    go = tmp_path / "go"
    make_source(root, fixer_entry())
    fake = script(root, step("attempt", {"do": "wait_for", "path": str(go)}, *USE_FIXER_IF_PRESENT["actions"]))
    out = root / "out"
    try:
        async with killed_client(
            tmp_path, root, "start_compare", workspace_template="task", task_file="task/task.md",
            artifact_source="source", output_dir="out", trials=1, verify_command=VERIFY, attempt_timeout="60s",
            runner_options={"fake_script": str(fake), "fake_home": str(root / "fake-home")},
        ) as started:  # fmt: skip
            assert (started["compare_id"], started["trials_planned"]) == (str(out), 2)
        info = hg.get_compare(out)
        assert (info.status, info.live, info.trials_planned) == ("running", True, 2)
        go.write_text("go")
        async with second_serve(tmp_path, root) as second:
            with anyio.fail_after(90):
                view = await call(second, "get_compare", compare_id="out", wait_seconds=80)
        assert (view["status"], view["live"], view["error"], view["trials_finished"]) == ("completed", False, None, 2)
        assert view["verdict"]["outcome"] == "no_detectable_difference"
        assert (view["harnessed"]["solved"], view["plain"]["solved"]) == (1, 0)
        [job] = JOBS.jobs(out, "compare")
        assert (await ended(job)).status == "finished"
    finally:
        await stop_workers(out)


async def test_a_second_serve_cancels_a_run_whose_client_was_killed_and_it_stays_resumable(
    tmp_path: Path, root: Path
) -> None:
    ws, go = root / "task", tmp_path / "go"
    try:
        async with killed_client(tmp_path, root, "start_run", workspace="task", task_text="write done.txt",
                                 verify_command="test -f done.txt", iterations=1,
                                 runner_options={"fake_script": waiting_script(root, go)}) as started:  # fmt: skip
            run_id = started["run_id"]
        [job] = JOBS.jobs(ws, "run", run_id)
        async with second_serve(tmp_path, root) as second:
            running = await call(second, "get_run", run_id=run_id)
            assert (running["run"]["status"], running["live"]) == ("running", True)
            with anyio.fail_after(40):
                cancelled = await call(second, "cancel_run", run_id=run_id)
            assert (cancelled["run"]["status"], cancelled["live"]) == ("interrupted", False)
            job = await ended(job)
            assert job.status == "interrupted"
            go.write_text("go")
            await call(second, "resume_run", run_id=run_id)
            with anyio.fail_after(90):
                finished = await call(second, "get_run", run_id=run_id, wait_seconds=80)
            assert (finished["run"]["status"], finished["run"]["evidence"]) == ("solved", "verified")
        assert [j.spec.action for j in JOBS.jobs(ws, "run", run_id)] == ["run", "resume"]
    finally:
        await stop_workers(ws)


async def test_a_forged_job_record_never_gets_a_signal_sent_to_another_process(root: Path) -> None:
    ws = root / "task"
    (ws / ".harnessgym" / "runs" / "forged").mkdir(parents=True)
    job = await JOBS.wait(JOBS.start(ResumeJob(workspace=ws, run_id="forged")), 30)  # a real record to copy
    assert job.status == "error"  # (the run has no config to resume)
    # A copy naming this very test process: its pid and start time match; the job's tag is not in its environment.
    job_dir = ws / ".harnessgym" / "jobs" / "run-forged"
    forged = job.model_copy(update={"job_id": job_dir.name, "key": "forged", "pid": os.getpid(),
                                    "proc_start": start_time(os.getpid()), "job_dir": job_dir})  # fmt: skip
    job_dir.mkdir()
    (job_dir / "job.json").write_text(forged.model_dump_json())
    found = [j for j in JOBS.jobs(ws, "run", "forged") if j.job_id == job_dir.name]
    assert [(j.status, JOBS.is_alive(j)) for j in found] == [("lost", False)]
    assert await JOBS.cancel(found[0]) is False
    with pytest.raises(hg.NotRunningError, match=r"run forged is not running \(status unknown\)"):
        await hg.cancel_run_async(ws, "forged")
