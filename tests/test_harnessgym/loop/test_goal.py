"""Goal mode offline: the fake agent keeps taking turns until its condition holds, is declared impossible, its
token budget is spent or the attempt times out; the iteration record says which, with turns and tokens; the
verify command still decides "solved"; bad goal input gets one clear message before anything starts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from support.loop import (
    VERIFY,
    config,
    example_workspace,
    harnessgym_argv,
    record,
    result,
    run_bounded,
    script,
    step,
)  # fmt: skip

from harnessgym.config import GOAL_FROM_TASK, RunConfig
from mcp_host import ProcResult, run_process

pytestmark = pytest.mark.anyio


async def cli(tmp_path: Path, *args: str, timeout: float = 60) -> tuple[ProcResult, str, str]:
    n = len(list(tmp_path.glob("cli-*.out")))
    out, err = tmp_path / f"cli-{n}.out", tmp_path / f"cli-{n}.err"
    proc = await run_process(harnessgym_argv(*args), timeout=timeout, stdout_path=out, stderr_path=err,
                               env={**os.environ, "TMPDIR": str(tmp_path)}, cwd=tmp_path)  # fmt: skip
    return proc, out.read_text(), err.read_text()


def goal_step(goal: dict[str, Any], *actions: dict[str, Any]) -> dict[str, Any]:
    return {**step("attempt", *actions), "goal": goal}


def progress(ws: Path) -> list[str]:
    path = ws / "progress.txt"
    return path.read_text().split() if path.exists() else []


TURN = {"do": "write", "path": "progress.txt", "text": "turn-{turn}\n", "append": True}


async def test_a_goal_keeps_the_agent_working_until_the_condition_holds_then_it_reflects_in_the_same_session(
    tmp_path: Path,
) -> None:
    ws = example_workspace(tmp_path)
    # Each continuation turn appends to progress.txt; turn 3 also writes done.txt, the condition's evidence.
    third = {"do": "run", "argv": ["{python}", "-c", "import sys; sys.argv[1] == '3' and open('done.txt', 'w')",
                                   "{turn}"]}  # fmt: skip
    fake = script(
        tmp_path,
        goal_step({"met_when_file": "done.txt", "tokens_per_turn": 700, "turn_actions": [TURN, third]},
                  result(status="incomplete", verified=False, summary="kept going")),
        step("reflection", result(reflection={"recommendations": ["none"]})),
        step("build", result(status="no_change")),
    )  # fmt: skip
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, goal="done.txt exists",
                                       goal_token_budget=100_000, build_after_solve=True))  # fmt: skip

    rec = record(ws, summary.run_id, 1)
    assert rec.goal is not None and rec.goal.outcome == "met", rec.goal
    assert (rec.goal.condition, rec.goal.turns, rec.goal.tokens_used, rec.goal.token_budget) == (
        "done.txt exists", 3, 2100, 100_000)  # fmt: skip
    assert progress(ws) == ["turn-2", "turn-3"], "every continuation turn did work"
    attempt, reflection = rec.phases["attempt"], rec.phases["reflection"]
    assert attempt.goal == rec.goal and attempt.status == "completed"
    assert reflection.status == "completed" and reflection.session_id == attempt.session_id
    # The goal says how long the agent tried; the verify command still decides: numerics.py is not fixed.
    assert rec.verdict is None and not rec.solved and rec.evidence == "none"


async def test_a_goal_never_met_stops_at_its_budget_and_the_verify_command_still_decides(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, goal_step({"tokens_per_turn": 1000, "turn_actions": [TURN]}, result(status="solved")))
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, goal="never", goal_token_budget=4500,
                                       verify_command=VERIFY))  # fmt: skip

    rec = record(ws, summary.run_id, 1)
    assert rec.goal is not None and (rec.goal.outcome, rec.goal.turns, rec.goal.tokens_used) == (
        "budget_exhausted", 5, 5000)  # fmt: skip
    assert len(progress(ws)) == 4
    assert rec.verdict is not None and rec.verdict.status == "failed" and not rec.solved
    assert any("claimed iteration 1 solved" in p for p in rec.problems)


async def test_impossible_and_timeout_are_recorded_as_their_own_outcomes(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, goal_step({"impossible_after": 2}), result(status="blocked"))
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, goal="cannot be done"))
    rec = record(ws, summary.run_id, 1)
    assert rec.goal is not None and (rec.goal.outcome, rec.goal.turns) == ("impossible", 2)

    ws2 = example_workspace(tmp_path, "ws2")
    slow = script(tmp_path, goal_step({"turn_actions": [{"do": "sleep", "seconds": 30}]}))
    summary = await run_bounded(config(ws2, tmp_path, slow, iterations=1, goal="x", attempt_timeout=3))
    rec = record(ws2, summary.run_id, 1)
    assert rec.phases["attempt"].status == "timeout"
    assert rec.goal is not None and (rec.goal.outcome, rec.goal.turns) == ("timeout", 1)


def test_a_bare_goal_means_the_tasks_own_condition_and_tui_goal_always_runs_one(tmp_path: Path) -> None:
    base: dict[str, Any] = {"workspace": tmp_path, "task_text": "t"}
    spec = RunConfig(**base, goal=GOAL_FROM_TASK, verify_command="pytest -q").goal_spec
    assert spec is not None and "completely solved" in spec.condition and "`pytest -q`" in spec.condition
    tui = RunConfig(**base, runner="tui-goal")
    assert tui.goal == GOAL_FROM_TASK and tui.goal_spec is not None
    assert RunConfig(**base).goal_spec is None


async def test_bad_goal_input_gets_one_clear_message_before_anything_starts(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    cases = [
        (("--goal", "   "), "the goal is empty"),
        (("--goal", "x", "--goal-token-budget", "0"), "must be a positive number of tokens"),
        (("--goal-token-budget", "-5"), "must be a positive number of tokens"),
        (("--runner", "fake", "--watch"), "it needs --runner codex, not 'fake'"),
    ]
    for args, message in cases:
        done, _, err = await cli(tmp_path, "run", "--task-text", "t", "--workspace", str(ws), *args)
        assert (done.returncode, message in err) == (2, True), (args, err)
        assert err.count("Error") == 1 and "Traceback" not in err, err
    assert not (ws / ".harnessgym" / "runs").exists(), "nothing may start on bad input"


async def test_the_cli_runs_a_bare_goal_and_tui_goal_prints_its_notice(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(tmp_path, goal_step({"met_after": 2}, result(status="incomplete")))
    done, out, err = await cli(tmp_path, "run", "--task-text", "Fix numerics.py.", "--workspace", str(ws),
                               "--iterations", "1", "--fake-script", str(fake), "--run-id", "g", "--goal")  # fmt: skip
    assert done.returncode == 0, err
    rec = record(ws, "g", 1)
    assert rec.goal is not None and rec.goal.outcome == "met" and "completely solved" in rec.goal.condition
    assert "goal met after 2 turn(s)" in out + err

    bad, _, err = await cli(tmp_path, "run", "--task-text", "t", "--workspace", str(ws), "--runner", "tui-goal",
                            "--codex-bin", str(tmp_path / "no-codex"), "--iterations", "1")  # fmt: skip
    assert "--runner tui-goal: running Codex in goal mode" in err and err.count("tui-goal: running") == 1
    assert os.path.isdir(ws / ".harnessgym" / "runs")
    del bad


def test_compare_passes_its_goal_to_every_trials_run_and_refuses_bad_goals_up_front(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from harnessgym.compare.models import CompareConfig

    base: dict[str, Any] = {"task_text": "t", "workspace_template": tmp_path, "output_dir": tmp_path / "out",
                            "verify_command": "true"}  # fmt: skip

    def trial_config(**fields: Any) -> Any:
        """The run one trial of such a comparison makes (as its worker builds it from the trial's job)."""
        from harnessgym.compare.executors import TrialJob
        from harnessgym.compare.spec import one_task
        from harnessgym.compare.trial_worker import _run_config

        config = CompareConfig(**base, **fields)
        job = TrialJob(trial_id="plain-1", spec=one_task(config), group="plain", runner=config.runner, index=1,
                       goal=config.goal, goal_token_budget=config.goal_token_budget, watch=config.watch)  # fmt: skip
        return _run_config(job, tmp_path / "w", tmp_path / "home", {})

    trial = trial_config(goal="tests pass", goal_token_budget=5000)
    assert (trial.goal, trial.goal_token_budget, trial.attempt_only) == ("tests pass", 5000, True)
    assert trial_config(runner="tui-goal").goal == GOAL_FROM_TASK
    for bad, message in (({"goal": ""}, "the goal is empty"), ({"goal_token_budget": -1}, "positive number")):
        with pytest.raises(ValidationError, match=message):
            CompareConfig(**base, **bad)
