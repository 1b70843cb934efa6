"""The fake agent and its runner behave like a real agent CLI at the process boundary."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest
from support.loop import script, step

from mcp_host._supervise.procs import run_process
from runners import PhaseRequest, RunnerOptions, UnknownRunner, get_runner

pytestmark = pytest.mark.anyio


def argv(tmp_path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "runners.fake_agent", "--phase", "attempt", "--iteration", "1", "--run-id", "r",
            "--workspace", str(tmp_path), "--result-path", str(tmp_path / "result.json"),
            "--home", str(tmp_path / "home"), *extra]  # fmt: skip


async def agent(tmp_path: Path, *extra: str, prompt: str = "hello") -> tuple[int | None, list[str], str]:
    (tmp_path / "prompt.txt").write_text(prompt)
    with anyio.fail_after(20):
        result = await run_process(argv(tmp_path, *extra), cwd=tmp_path, stdin_path=tmp_path / "prompt.txt",
                                   stdout_path=tmp_path / "out", stderr_path=tmp_path / "err")  # fmt: skip
    return result.returncode, (tmp_path / "out").read_text().splitlines(), (tmp_path / "err").read_text()


async def test_session_id_comes_first_and_resume_continues_it(tmp_path: Path) -> None:
    code, lines, _ = await agent(tmp_path, prompt="p" * 1000)
    first = json.loads(lines[0])
    assert code == 0 and first["type"] == "system" and first["prompt_chars"] == 1000
    sid = first["session_id"]
    code, lines, _ = await agent(tmp_path, "--resume", sid)
    assert code == 0 and json.loads(lines[0])["session_id"] == sid and json.loads(lines[-1])["type"] == "result"


async def test_resuming_an_unknown_session_fails_like_a_real_cli(tmp_path: Path) -> None:
    code, lines, err = await agent(tmp_path, "--resume", "fake-does-not-exist")
    assert (code, lines) == (1, []) and "No conversation found with session ID: fake-does-not-exist" in err


async def test_a_scripted_failure_exits_non_zero_with_a_message(tmp_path: Path) -> None:
    fake = script(tmp_path, step("attempt", {"do": "exit", "code": 7, "message": "quota exceeded"}))
    code, lines, err = await agent(tmp_path, "--script", str(fake))
    assert code == 7 and "quota exceeded" in err and json.loads(lines[-1])["is_error"] is True


async def test_the_runner_maps_sessions_exit_codes_and_timeouts(tmp_path: Path) -> None:
    fake = script(tmp_path, step("attempt", {"do": "sleep", "seconds": 30}, iteration=2),
                  step("reflection", {"do": "exit", "code": 5}))  # fmt: skip
    runner = get_runner("fake", RunnerOptions(fake_script=fake, fake_home=tmp_path / "home"))

    def request(phase: str, iteration: int, session: str | None = None, timeout: float = 20) -> PhaseRequest:
        base = tmp_path / f"{phase}{iteration}"
        return PhaseRequest.model_validate({
            "phase": phase, "prompt": "go", "workspace": tmp_path, "run_id": "r", "iteration": iteration,
            "timeout_seconds": timeout, "session_id": session, "result_path": tmp_path / "result.json",
            "prompt_path": base.with_suffix(".prompt"), "stdout_path": base.with_suffix(".out"),
            "stderr_path": base.with_suffix(".err"), "transcript_path": base.with_suffix(".transcript")})  # fmt: skip

    with anyio.fail_after(30):
        first = await runner.run_phase(request("attempt", 1))
        failed = await runner.run_phase(request("reflection", 1, first.session_id))
        unknown = await runner.run_phase(request("build", 1, "fake-nope"))
        slow = await runner.run_phase(request("attempt", 2, timeout=1))
    assert first.status == "completed" and first.session_id and first.session_id.startswith("fake-")
    assert (failed.status, failed.return_code, failed.session_id) == ("failed", 5, first.session_id)
    assert unknown.status == "failed" and "No conversation found" in unknown.message
    assert (slow.status, slow.timed_out, slow.error_kind) == ("timeout", True, "timeout")
    assert "[system]" in (tmp_path / "attempt1.transcript").read_text()


def test_unknown_runner_names_are_refused_clearly() -> None:
    with pytest.raises(UnknownRunner, match="unknown runner 'gpt'; choose one of: fake, claude, codex, exec"):
        get_runner("gpt", RunnerOptions())
