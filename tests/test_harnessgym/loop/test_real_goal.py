"""``harnessgym run --goal`` end to end with the real CLIs against the scripted model: the attempt keeps going
across model turns until the goal is met, reflection and build resume the same session, and the iteration record
shows the goal, its outcome, the turns and the tokens; the verify command still decides "solved".

``--runner tui-goal`` (HarnessGym 0.1.1's name) runs Codex in goal mode with the task's own success condition
and prints a one-line notice saying so.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from scripted_model import scripted_model
from support.goal_cases import CONDITION, goal_scripts, progress
from support.real_clis import claude_env, codex_env, ensure_real_clis, write_codex_provider_config

from mcp_host import run_process

pytestmark = [pytest.mark.anyio, pytest.mark.real_cli]

RUN_TIMEOUT = 240.0
REFLECTION = "Reflect on the attempt you just made"
BUILD = "Build the improvement you selected"


def _shell(command: str) -> dict[str, Any]:
    return {"tool": [{"name": "Bash", "arguments": {"command": command}},
                     {"name": "exec_command", "arguments": {"cmd": command}}]}  # fmt: skip


@pytest.fixture(scope="module")
def clis() -> Any:
    return ensure_real_clis()


@pytest.mark.parametrize("runner", ["claude", "tui-goal", "watch"])
async def test_a_goal_mode_run_works_until_the_goal_is_met_then_reflects_and_builds_in_the_same_session(
    clis: Any, tmp_path: Path, runner: str
) -> None:
    agent = "claude" if runner == "claude" else "codex"
    script = {"scripts": [
        {"marker": REFLECTION, "steps": [{"text": "reflected"}]},
        {"marker": BUILD, "steps": [{"text": "built nothing"}]},
        *goal_scripts(_shell, agent),
    ]}  # fmt: skip
    workspace = tmp_path / "ws"
    workspace.mkdir()
    with scripted_model(script, tmp_path / "model", lifetime=RUN_TIMEOUT + 30) as model:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_", "CODEX_"))}
        if agent == "claude":
            env.update(claude_env(tmp_path / "home", model.base_url))
            cli_args = ["--claude-bin", str(clis.claude), "--claude-model", "mock-model", "--goal", CONDITION]
        else:
            env.update(codex_env(tmp_path / "home"))
            write_codex_provider_config(Path(env["CODEX_HOME"]), model.openai_base_url)
            cli_args = ["--codex-bin", str(clis.codex)]  # tui-goal: the goal is the task's own condition
        if runner == "watch":  # the experimental live view: Codex's UI in a private tmux server
            cli_args += ["--watch", "--goal", CONDITION]
        name = "codex" if runner == "watch" else runner
        argv = [sys.executable, "-m", "harnessgym", "run", "--runner", name, *cli_args, "--iterations", "1"]
        argv += ["--task-text", "HG_GOAL_MET: make done.txt exist.", "--workspace", str(workspace)]
        argv += ["--run-id", "goal", "--verify-command", "test -f solved.txt", "--attempt-timeout", "120s"]
        out, err = tmp_path / "run.stdout.txt", tmp_path / "run.stderr.txt"
        with anyio.fail_after(RUN_TIMEOUT + 10):
            proc = await run_process(argv, cwd=tmp_path, env=env, timeout=RUN_TIMEOUT, stdout_path=out, stderr_path=err)
        requests = model.requests("anthropic" if agent == "claude" else "openai")
    stdout, stderr = out.read_text(), err.read_text()
    assert proc.returncode == 0, (stdout + stderr)[-4000:]
    if runner == "tui-goal":
        assert (stdout + stderr).count("--runner tui-goal: running Codex in goal mode") == 1

    record = json.loads((workspace / ".harnessgym/runs/goal/iterations/1/iteration.json").read_text())
    goal = record["goal"]
    assert goal["outcome"] == "met" and goal["tokens_used"] > 0 and goal["token_budget"] == 1_000_000, goal
    if runner == "tui-goal":
        assert "completely solved" in goal["condition"] and "`test -f solved.txt`" in goal["condition"]
    if runner == "watch":  # the UI's /goal adds one more user message, so the script skips a step
        assert (
            "attach read-only" in (workspace / ".harnessgym/runs/goal/iterations/1/attempt.transcript.txt").read_text()
        )
        assert progress(workspace)[-1] == "three" and goal["turns"] >= 2
    else:
        assert goal["turns"] == 3 and progress(workspace) == ["one", "two", "three"]
    # The goal was met, but harnessgym's own verify command decides: solved.txt was never written.
    assert record["solved"] is False and record["verdict"]["status"] == "failed"
    phases = record["phases"]
    session = phases["attempt"]["session_id"]
    assert session and phases["reflection"]["session_id"] == session and phases["build"]["session_id"] == session
    assert phases["reflection"]["status"] == phases["build"]["status"] == "completed"
    build = next(r for r in requests if r["script"] == BUILD)
    assert "echo three" in json.dumps(build["body"]), "the build resumed the attempt's conversation"
