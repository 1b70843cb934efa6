"""Goal mode with the real Codex CLI (0.169) through ``codex app-server`` against the scripted model: a thread
goal keeps the agent working across turns until the model marks it complete, the reflection resumes the same
thread with ``codex exec resume``, and a goal never met is stopped by its token budget as ``budgetLimited``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripted_model import ScriptedModel, scripted_model
from support.goal_cases import CONDITION, goal_scripts, progress
from support.real_clis import codex_config, codex_env, ensure_real_clis, phase_request
from support.runner_cases import probe_launch, shared_scripts

from runners import GoalSpec
from runners._codex import CodexRunner
from runners._options import RunnerOptions

pytestmark = [pytest.mark.anyio, pytest.mark.real_cli]


def shell(command: str) -> dict[str, Any]:
    return {"tool": "exec_command", "arguments": {"cmd": command}}


SCRIPT: dict[str, Any] = {"scripts": [*goal_scripts(shell, "codex"), *shared_scripts(shell, "codex")]}


@pytest.fixture(scope="module")
def codex_bin() -> Path:
    return ensure_real_clis().codex


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ScriptedModel]:
    with scripted_model(SCRIPT, tmp_path / "model") as server:
        yield server


def _runner(codex_bin: Path, model: ScriptedModel, tmp_path: Path, **options: Any) -> CodexRunner:
    return CodexRunner(
        RunnerOptions(
            codex_bin=str(codex_bin),
            codex_config=codex_config(model.openai_base_url),
            agent_env=codex_env(tmp_path / "home"),
            **options,
        )
    )


def _goal_turns(requests: list[dict[str, Any]]) -> int:
    triggers = [json.loads(r["headers"].get("x-codex-turn-metadata") or "{}").get("turn_trigger") for r in requests]
    return sum(1 for t in triggers if t == "goal")


async def test_a_thread_goal_keeps_codex_working_until_it_is_complete_then_reflection_resumes_the_thread(
    codex_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(codex_bin, model, tmp_path)
    request = phase_request(tmp_path, "attempt", "HG_GOAL_MET work on it", timeout=120)
    attempt = await runner.run_phase(request.model_copy(update={"goal": GoalSpec(condition=CONDITION)}))

    assert attempt.status == "completed", attempt.message
    assert attempt.goal is not None and (attempt.goal.outcome, attempt.goal.turns) == ("met", 3), attempt.goal
    assert attempt.goal.tokens_used > 0 and attempt.usage["input_tokens"] > 0 and attempt.cost_usd is None
    assert progress(tmp_path / "ws") == ["one", "two", "three"]
    assert attempt.session_id is not None and attempt.details["commands"] == 3
    requests = model.requests("openai")
    assert _goal_turns(requests) >= 2, "the later turns were goal turns Codex started by itself"
    objective = json.dumps(requests[-1]["body"]["input"])
    assert CONDITION in objective and "update_goal" in json.dumps(requests[-1]["body"]["tools"])
    transcript = (tmp_path / "phases" / "attempt" / "transcript.log").read_text()
    assert "goal: complete" in transcript and "thread.started" in transcript
    lines = (tmp_path / "phases" / "attempt" / "stdout.jsonl").read_text().splitlines()
    assert any('"thread/goal/updated"' in line for line in lines), "the JSON-RPC traffic is recorded"

    reflection = await runner.run_phase(
        phase_request(
            tmp_path, "reflection", "HG_GOAL_REFLECT reflect", phase="reflection", session_id=attempt.session_id
        )
    )
    assert reflection.status == "completed", reflection.message
    assert reflection.session_id == attempt.session_id and reflection.final_text == "reflected"
    last = model.requests("openai")[-1]
    assert last["script"] == "HG_GOAL_REFLECT" and "echo three" in json.dumps(last["body"]["input"])
    assert len(model.requests("openai")) == len(requests) + 1, "the completed goal did not continue on resume"


async def test_a_thread_goal_never_met_stops_at_its_token_budget(
    codex_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(codex_bin, model, tmp_path, codex_sandbox="workspace-write")
    request = phase_request(tmp_path, "attempt", "HG_GOAL_NEVER work on it", timeout=120)
    attempt = await runner.run_phase(
        request.model_copy(update={"goal": GoalSpec(condition=CONDITION, token_budget=6000)})
    )

    assert attempt.status == "completed", attempt.message
    assert attempt.goal is not None and attempt.goal.outcome == "budget_exhausted", attempt.goal
    assert attempt.goal.tokens_used >= 6000 and attempt.goal.turns >= 3
    requests = model.requests("openai")
    assert 6 <= len(requests) <= 12, "stopped at the budget, not run away"

    reflection = await runner.run_phase(
        phase_request(
            tmp_path, "reflection", "HG_GOAL_REFLECT reflect", phase="reflection", session_id=attempt.session_id
        )
    )
    assert reflection.status == "completed" and reflection.final_text == "reflected", reflection.message
    assert len(model.requests("openai")) == len(requests) + 1, "the spent goal did not continue on resume"


@pytest.mark.parametrize(
    ("marker", "budget", "timeout", "ending"),
    [
        ("HG_GOAL_IMPOSSIBLE", 1_000_000, 120, "impossible"),
        ("HG_GOAL_STALL", 10**12, 8, "timeout"),
    ],
)
async def test_an_impossible_goal_and_a_phase_timeout_are_their_own_outcomes(
    codex_bin: Path, model: ScriptedModel, tmp_path: Path, marker: str, budget: int, timeout: float, ending: str
) -> None:
    runner = _runner(codex_bin, model, tmp_path)
    request = phase_request(tmp_path, "attempt", f"{marker} work on it", timeout=timeout)
    goal = GoalSpec(condition=CONDITION, token_budget=budget)
    attempt = await runner.run_phase(request.model_copy(update={"goal": goal}))

    assert attempt.goal is not None and attempt.goal.outcome == ending, attempt.goal
    assert attempt.status == ("timeout" if ending == "timeout" else "completed"), attempt.message
    assert attempt.session_id is not None and progress(tmp_path / "ws")


async def test_a_goal_attempt_gets_the_mcp_server_and_records_its_tool_calls(
    codex_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(codex_bin, model, tmp_path)
    request = phase_request(tmp_path, "attempt", "HG_MCP call it", mcp=probe_launch(tmp_path), timeout=120)
    attempt = await runner.run_phase(request.model_copy(update={"goal": GoalSpec(condition=CONDITION,
                                                                                 token_budget=3000)}))  # fmt: skip

    assert (tmp_path / "ws" / "mcp_marker.txt").read_text() == "from codex"
    assert attempt.details["mcp_tool_calls"][0] == {"server": "probe", "tool": "write_marker", "status": "completed"}
    assert attempt.goal is not None and attempt.goal.outcome == "budget_exhausted", attempt.goal


async def test_the_live_view_runs_the_goal_in_codexs_ui_under_a_private_tmux_and_leaves_nothing(
    codex_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(codex_bin, model, tmp_path, codex_watch=True)
    request = phase_request(tmp_path, "attempt", "HG_GOAL_MET work on it\nsecond line of the prompt", timeout=120)
    attempt = await runner.run_phase(request.model_copy(update={"goal": GoalSpec(condition=CONDITION)}))

    transcript = (tmp_path / "phases" / "attempt" / "transcript.log").read_text()
    assert "live view" in transcript and "attach read-only with: tmux -S" in transcript
    assert "running headless" not in transcript, transcript
    assert attempt.status == "completed", attempt.message
    assert attempt.goal is not None and attempt.goal.outcome == "met", attempt.goal
    # The UI's /goal adds one more user message than app-server's goal/set, so the script skips a step here.
    assert progress(tmp_path / "ws")[0] == "one" and progress(tmp_path / "ws")[-1] == "three"
    assert attempt.session_id is not None
    first = model.requests("openai")[0]
    assert "second line of the prompt" in json.dumps(first["body"]["input"]), "the pasted prompt arrived whole"
    socket = Path(attempt.details["watch_attach"].split()[2])
    assert not socket.exists(), "the private tmux server is gone"


async def test_the_live_view_stops_a_goal_at_its_budget_and_clears_it_before_the_thread_is_resumed(
    codex_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(codex_bin, model, tmp_path, codex_watch=True)
    request = phase_request(tmp_path, "attempt", "HG_GOAL_NEVER work on it", timeout=120)
    goal = GoalSpec(condition=CONDITION, token_budget=6000)
    attempt = await runner.run_phase(request.model_copy(update={"goal": goal}))

    assert attempt.goal is not None and attempt.goal.outcome == "budget_exhausted", attempt.goal
    assert attempt.goal.tokens_used >= 6000
    before = len(model.requests("openai"))
    reflection = await runner.run_phase(
        phase_request(
            tmp_path, "reflection", "HG_GOAL_REFLECT reflect", phase="reflection", session_id=attempt.session_id
        )
    )
    assert reflection.status == "completed" and reflection.final_text == "reflected", reflection.message
    assert len(model.requests("openai")) == before + 1, "the cleared goal did not continue on resume"


async def test_a_live_view_whose_ui_never_starts_falls_back_to_a_headless_attempt(
    codex_bin: Path, model: ScriptedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runners._codex_watch as watch

    monkeypatch.setattr(watch, "START_SECONDS", 3.0)
    stuck = tmp_path / "codex-with-a-stuck-ui"
    stuck.write_text(f'#!/bin/sh\n[ "$1" = "--no-daemon" ] && exec sleep 300\nexec {codex_bin} "$@"\n')
    stuck.chmod(0o755)
    runner = _runner(stuck, model, tmp_path, codex_watch=True)
    request = phase_request(tmp_path, "attempt", "HG_GOAL_MET work on it", timeout=120)
    attempt = await runner.run_phase(request.model_copy(update={"goal": GoalSpec(condition=CONDITION)}))

    transcript = (tmp_path / "phases" / "attempt" / "transcript.log").read_text()
    assert "did not start the turn within 3 s; running headless" in transcript
    assert attempt.status == "completed" and attempt.goal is not None and attempt.goal.outcome == "met"
    assert progress(tmp_path / "ws") == ["one", "two", "three"]
