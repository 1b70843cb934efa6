"""Crash safety: kill -9, SIGTERM and cancellation leave a resumable run and no process behind."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import anyio
import pytest
from support.loop import (
    FIX,
    VERIFY,
    alive,
    config,
    example_workspace,
    hang_once,
    hanging_children,
    harnessgym_argv,
    marked_processes,
    result,
    script,
    step,
    wait_until,
)

from harnessgym import RunEvent, WorkspaceLockedError, get_run, list_runs, resume_async, run_async
from harnessgym.records import RunSummary
from mcp_host._supervise.procs import run_process, spawn

pytestmark = pytest.mark.anyio


def log(name: str) -> dict[str, object]:
    return {"do": "write", "path": "calls.log", "text": f"{name}-{{iteration}}\n", "append": True}


def crash_script(tmp_path: Path, hang_iteration: int) -> Path:
    return script(
        tmp_path,
        step("attempt", log("attempt"), *([hang_once(2)] if hang_iteration == 1 else []),
             result(status="blocked"), iteration=1),
        step("reflection", log("reflection"), result(reflection={"selected_improvement": {"kind": "tool"}})),
        step("build", log("build"), {"do": "tool", "name": "probe"}),
        step("attempt", log("attempt"), *([hang_once(2)] if hang_iteration == 2 else []), FIX,
             result(status="solved"), iteration=2),
    )  # fmt: skip


def calls(ws: Path) -> list[str]:
    return (ws / "calls.log").read_text().split()


@pytest.mark.slow
async def test_kill_9_during_iteration_two_then_resume_skips_iteration_one(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = crash_script(tmp_path, hang_iteration=2)
    out = open(tmp_path / "first.out", "wb")
    proc = await spawn(harnessgym_argv(
        "run", "--task", str(ws / "task.md"), "--workspace", str(ws), "--iterations", "2", "--run-id", "r1",
        "--verify-command", VERIFY, "--fake-script", str(fake)),
        stdout=out, stderr=out, env={**os.environ, "TMPDIR": str(tmp_path)})  # fmt: skip
    try:
        await wait_until(lambda: bool(hanging_children(ws, 2)))
        children = hanging_children(ws, 2)
        os.kill(proc.pid, signal.SIGKILL)
        with anyio.fail_after(10):
            await proc.wait()
    finally:
        out.close()
        await proc.aclose()
    assert all(alive(pid) for pid in children), "the killed run's agent should be orphaned, not yet reaped"
    resumed = await run_process(
        harnessgym_argv("run", "--resume", "r1", "--workspace", str(ws)),
        timeout=60,
        stdout_path=tmp_path / "resume.out",
        stderr_path=tmp_path / "resume.err",
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    text = (tmp_path / "resume.out").read_text()
    assert resumed.returncode == 0, text + (tmp_path / "resume.err").read_text()
    assert "Final status: solved" in text and "Evidence: verified" in text
    assert calls(ws) == ["attempt-1", "reflection-1", "build-1", "attempt-2", "attempt-2"]
    assert not any(alive(pid) for pid in children) and marked_processes(ws) == []
    journal = [json.loads(ln) for ln in (ws / ".harnessgym/runs/r1/journal.jsonl").read_text().splitlines()]
    started = [(e["iteration"], e["phase"]) for e in journal if e["kind"] == "phase_started"]
    assert started.count((1, "attempt")) == 1 and started.count((2, "attempt")) == 2


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.slow
async def test_sigterm_or_ctrl_c_kills_the_agent_tree_and_writes_an_interrupted_summary(
    tmp_path: Path, signum: signal.Signals
) -> None:
    ws = example_workspace(tmp_path)
    fake = crash_script(tmp_path, hang_iteration=1)
    out = open(tmp_path / "first.out", "wb")
    proc = await spawn(harnessgym_argv(
        "run", "--task", str(ws / "task.md"), "--workspace", str(ws), "--iterations", "2", "--run-id", "t1",
        "--verify-command", VERIFY, "--fake-script", str(fake)),
        stdout=out, stderr=out, env={**os.environ, "TMPDIR": str(tmp_path)})  # fmt: skip
    try:
        await wait_until(lambda: bool(hanging_children(ws, 1)))
        children = hanging_children(ws, 1)
        os.kill(proc.pid, signum)
        with anyio.fail_after(20):
            await proc.wait()
    finally:
        out.close()
        await proc.aclose()
    assert proc.returncode == 128 + signum, (tmp_path / "first.out").read_text()  # 143 for SIGTERM, 130 for SIGINT
    summary = RunSummary.model_validate_json((ws / ".harnessgym/runs/t1/summary.json").read_text())
    assert summary.status == "interrupted"
    assert not any(alive(pid) for pid in children) and marked_processes(ws) == []
    assert "--resume t1" in (tmp_path / "first.out").read_text()
    with anyio.fail_after(60):
        final = await resume_async(ws, "t1")
    assert (final.status, final.solved_iteration) == ("solved", 2)
    assert calls(ws) == ["attempt-1", "attempt-1", "reflection-1", "build-1", "attempt-2"]


@pytest.mark.slow
async def test_cancelling_run_async_stops_the_agent_and_leaves_a_resumable_run(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    cfg = config(ws, tmp_path, crash_script(tmp_path, hang_iteration=1), verify_command=VERIFY)
    events: list[RunEvent] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_async, cfg, events.append)
        await wait_until(lambda: bool(hanging_children(ws, 1)))
        children = hanging_children(ws, 1)
        live = get_run(ws, cfg.run_id)
        assert (live.status, live.current_iteration, live.current_phase) == ("running", 1, "attempt")
        second = cfg.model_copy(update={"run_id": "second"})
        with pytest.raises(WorkspaceLockedError, match="in use by another harnessgym run"):
            await run_async(second)
        tg.cancel_scope.cancel()
    assert events[-1].kind == "run_interrupted"
    assert not any(alive(pid) for pid in children)

    assert get_run(ws, cfg.run_id).status == "interrupted"
    assert [r.run_id for r in list_runs(ws)] == [cfg.run_id]
    with anyio.fail_after(60):
        final = await resume_async(ws, cfg.run_id)
    assert final.status == "solved" and get_run(ws, cfg.run_id).status == "solved"


@pytest.mark.slow
async def test_a_finished_run_cannot_be_resumed(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    cfg = config(ws, tmp_path, verify_command=VERIFY)
    with anyio.fail_after(60):
        await run_async(cfg)
    from harnessgym import ResumeError

    with pytest.raises(ResumeError, match="already finished"):
        await resume_async(ws, cfg.run_id)


async def test_options_given_with_resume_are_applied_and_recorded_or_refused(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    cfg = config(ws, tmp_path, crash_script(tmp_path, hang_iteration=1), verify_command=VERIFY, run_id="opt")
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_async, cfg)
        await wait_until(lambda: bool(hanging_children(ws, 1)))
        tg.cancel_scope.cancel()
    out, err = tmp_path / "resume.out", tmp_path / "resume.err"

    async def resume(*options: str) -> tuple[int | None, str]:
        argv = harnessgym_argv("run", "--resume", "opt", "--workspace", str(ws), *options)
        proc = await run_process(argv, timeout=90, stdout_path=out, stderr_path=err,
                                 env={**os.environ, "TMPDIR": str(tmp_path)})  # fmt: skip
        return proc.returncode, err.read_text()

    # what would change the run's evidence or agent is refused, with nothing started
    code, text = await resume("--verify-command", "true", "--runner", "claude")
    assert code == 1 and "cannot be resumed: it keeps its own " in text and "Traceback" not in text
    assert "--verify-command ('true'; the run has 'python verifier.py')" in text
    assert "--runner ('claude'; the run has 'fake')" in text
    saved = json.loads((ws / ".harnessgym/runs/opt/run_config.json").read_text())
    assert (saved["attempt_timeout"], saved["iterations"]) == (30.0, 2)
    # the same value as the run's is no change; time limits and more iterations are applied and recorded
    code, text = await resume("--verify-command", VERIFY, "--attempt-timeout", "10m", "--iterations", "3")
    assert code == 0, text
    assert "Runner: fake (recorded in run opt)" in text
    saved = json.loads((ws / ".harnessgym/runs/opt/run_config.json").read_text())
    assert (saved["attempt_timeout"], saved["iterations"]) == (600.0, 3)
    journal = (ws / ".harnessgym/runs/opt/journal.jsonl").read_text()
    assert "options changed: " in journal
    assert "--attempt-timeout 30.0 -> 600.0" in journal and "--iterations 2 -> 3" in journal
