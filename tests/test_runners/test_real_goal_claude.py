"""Goal mode with the real Claude Code CLI (2.1.197) against the scripted model: ``/goal`` in print mode keeps
the agent working across model turns until the judge finds the condition met, the reflection resumes the same
session, and a goal never met is stopped at its token budget (Claude has no budget of its own)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripted_model import ScriptedModel, scripted_model
from support.goal_cases import CONDITION, goal_scripts, judge_requests, progress
from support.real_clis import claude_env, ensure_real_clis, phase_request

from runners import GoalSpec
from runners._claude import ClaudeRunner
from runners._options import RunnerOptions

pytestmark = [pytest.mark.anyio, pytest.mark.real_cli]


def shell(command: str) -> dict[str, Any]:
    return {"tool": "Bash", "arguments": {"command": command}}


SCRIPT: dict[str, Any] = {"scripts": goal_scripts(shell, "claude")}


@pytest.fixture(scope="module")
def claude_bin() -> Path:
    return ensure_real_clis().claude


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ScriptedModel]:
    with scripted_model(SCRIPT, tmp_path / "model") as server:
        yield server


def _runner(claude_bin: Path, model: ScriptedModel, tmp_path: Path) -> ClaudeRunner:
    env = claude_env(tmp_path / "home", model.base_url)
    return ClaudeRunner(RunnerOptions(claude_bin=str(claude_bin), claude_model="mock-model", agent_env=env))


async def test_a_goal_keeps_claude_working_until_the_judge_finds_it_met_then_reflection_resumes_the_session(
    claude_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(claude_bin, model, tmp_path)
    request = phase_request(tmp_path, "attempt", "HG_GOAL_MET work on it", timeout=120)
    attempt = await runner.run_phase(request.model_copy(update={"goal": GoalSpec(condition=CONDITION)}))

    assert attempt.status == "completed", attempt.message
    assert attempt.goal is not None and (attempt.goal.outcome, attempt.goal.turns) == ("met", 3), attempt.goal
    assert attempt.goal.condition == CONDITION and attempt.goal.tokens_used > 0
    assert "done.txt exists" in attempt.goal.reason
    assert progress(tmp_path / "ws") == ["one", "two", "three"]
    verdicts = [j["reply"]["ok"] for j in judge_requests(model.requests("anthropic"))]
    assert verdicts == [False, True], "the judge was asked at each stop until the condition held"
    goal_prompt = (tmp_path / "phases" / "attempt" / "prompt.goal.md").read_text()
    assert goal_prompt.startswith(f"/goal {CONDITION}")

    reflection = await runner.run_phase(
        phase_request(
            tmp_path, "reflection", "HG_GOAL_REFLECT reflect", phase="reflection", session_id=attempt.session_id
        )
    )
    assert reflection.status == "completed" and reflection.session_id == attempt.session_id
    assert reflection.final_text == "reflected"
    last = model.requests("anthropic")[-1]
    assert last["script"] == "HG_GOAL_REFLECT" and "echo three" in json.dumps(last["body"]["messages"])
    assert len(judge_requests(model.requests("anthropic"))) == 2, "a met goal does not judge the reflection"


async def test_a_goal_never_met_stops_at_its_token_budget_and_does_not_come_back_on_resume(
    claude_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(claude_bin, model, tmp_path)
    request = phase_request(tmp_path, "attempt", "HG_GOAL_NEVER work on it", timeout=120)
    attempt = await runner.run_phase(
        request.model_copy(update={"goal": GoalSpec(condition=CONDITION, token_budget=6000)})
    )

    assert attempt.status == "completed", attempt.message
    assert attempt.goal is not None and attempt.goal.outcome == "budget_exhausted", attempt.goal
    assert attempt.goal.tokens_used >= 6000 and attempt.goal.turns >= 3
    main = [r for r in model.requests("anthropic") if r["reply"]["kind"] != "judge"]
    assert 6 <= len(main) <= 12, "stopped at the budget, not run away"
    judged = len(judge_requests(model.requests("anthropic")))
    assert judged >= 1

    reflection = await runner.run_phase(
        phase_request(
            tmp_path, "reflection", "HG_GOAL_REFLECT reflect", phase="reflection", session_id=attempt.session_id
        )
    )
    assert reflection.status == "completed" and reflection.final_text == "reflected", reflection.message
    assert len(judge_requests(model.requests("anthropic"))) == judged, "the cleared goal did not restart on resume"


@pytest.mark.parametrize(
    ("marker", "budget", "timeout", "ending"),
    [
        ("HG_GOAL_IMPOSSIBLE", 1_000_000, 120, "impossible"),
        ("HG_GOAL_STALL", 10**12, 8, "timeout"),
    ],
)
async def test_an_impossible_goal_and_a_phase_timeout_are_their_own_outcomes(
    claude_bin: Path, model: ScriptedModel, tmp_path: Path, marker: str, budget: int, timeout: float, ending: str
) -> None:
    runner = _runner(claude_bin, model, tmp_path)
    request = phase_request(tmp_path, "attempt", f"{marker} work on it", timeout=timeout)
    goal = GoalSpec(condition=CONDITION, token_budget=budget)
    attempt = await runner.run_phase(request.model_copy(update={"goal": goal}))

    assert attempt.goal is not None and attempt.goal.outcome == ending, attempt.goal
    assert attempt.status == ("timeout" if ending == "timeout" else "completed"), attempt.message
    assert attempt.session_id is not None and progress(tmp_path / "ws")
