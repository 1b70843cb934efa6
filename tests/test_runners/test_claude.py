"""ClaudeRunner against the real Claude Code CLI (2.1.197) and the scripted model server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from scripted_model import ScriptedModel, scripted_model
from support.real_clis import claude_env, ensure_real_clis, phase_request, pid_gone
from support.runner_cases import LONG_PROMPT, SHELL_WRITE, probe_calls, probe_launch, shared_scripts
from support.waiting import wait_until

from runners._base import McpLaunch
from runners._claude import ClaudeRunner
from runners._options import RunnerOptions

pytestmark = [pytest.mark.anyio, pytest.mark.real_cli]


def shell(command: str) -> dict[str, Any]:
    return {"tool": "Bash", "arguments": {"command": command}}


SCRIPT: dict[str, Any] = {
    "scripts": [
        *shared_scripts(shell, "claude"),
        {"marker": "HG_DENIED", "steps": [shell(SHELL_WRITE), {"text": "denied"}]},
        {
            "marker": "HG_BUDGET",
            "steps": [shell(f"echo {i}") for i in range(6)] + [{"text": "spent"}],
            "usage": {"input_tokens": 100_000, "output_tokens": 100},
        },
    ]
}


@pytest.fixture(scope="module")
def claude_bin() -> Path:
    return ensure_real_clis().claude


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ScriptedModel]:
    with scripted_model(SCRIPT, tmp_path / "model") as server:
        yield server


def _runner(claude_bin: Path, model: ScriptedModel, tmp_path: Path, **options: Any) -> ClaudeRunner:
    env = claude_env(tmp_path / "home", model.base_url)
    return ClaudeRunner(RunnerOptions(claude_bin=str(claude_bin), claude_model="mock-model", agent_env=env, **options))


async def test_fresh_session_then_resume_keeps_the_session_and_sends_the_history(
    claude_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(claude_bin, model, tmp_path)
    fresh = await runner.run_phase(phase_request(tmp_path, "attempt", LONG_PROMPT))

    assert fresh.status == "completed", fresh.message
    assert fresh.session_id is not None and fresh.final_text == "fresh done"
    assert (tmp_path / "ws" / "shell_marker.txt").read_text().strip() == "shell-ran"
    assert fresh.usage["input_tokens"] > 0 and fresh.cost_usd is not None and fresh.cost_usd > 0
    transcript = (tmp_path / "phases" / "attempt" / "transcript.log").read_text()
    assert "tool_use: Bash" in transcript and "fresh done" in transcript

    resumed = await runner.run_phase(
        phase_request(tmp_path, "reflection", "HG_RESUME reflect now", phase="reflection", session_id=fresh.session_id)
    )
    assert resumed.status == "completed", resumed.message
    assert resumed.session_id == fresh.session_id and resumed.final_text == "resumed done"
    last = model.requests("anthropic")[-1]
    assert last["script"] == "HG_RESUME"
    history = json.dumps(last["body"]["messages"])
    assert "HG_FRESH" in history and SHELL_WRITE in history and "fresh done" in history


async def test_a_phase_timeout_kills_the_cli_and_the_process_it_started(
    claude_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(claude_bin, model, tmp_path)
    outcome = await runner.run_phase(phase_request(tmp_path, "attempt", "HG_STALL go", timeout=8))

    assert outcome.status == "timeout" and outcome.error_kind == "timeout" and outcome.timed_out
    assert outcome.session_id is not None
    init = json.loads((tmp_path / "phases" / "attempt" / "stdout.jsonl").read_text().splitlines()[0])
    assert init["session_id"] == outcome.session_id
    sleep_pid = int((tmp_path / "ws" / "sleep.pid").read_text())
    assert pid_gone(sleep_pid), "the background sleep the agent started outlived the phase"
    assert outcome.details.get("stray_processes_killed", 0) >= 1
    # It was the phase's own 8 s that ended it (how soon after is the machine's speed, not a behaviour).
    assert "ran out of its 8 s and was killed" in outcome.message


async def test_cancelling_a_phase_kills_the_cli_and_the_process_it_started(
    claude_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(claude_bin, model, tmp_path)
    request = phase_request(tmp_path, "attempt", "HG_STALL go", timeout=60)
    sleep_pid_file = tmp_path / "ws" / "sleep.pid"
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(runner.run_phase, request)
            await wait_until(lambda: sleep_pid_file.exists() and sleep_pid_file.read_text().strip(), 30,
                             "the agent's background sleep to write its pid")  # fmt: skip
            tg.cancel_scope.cancel()
    assert pid_gone(int(sleep_pid_file.read_text())), "the escaped background sleep outlived the cancelled phase"


async def test_budget_exhaustion_is_reported_as_budget_exhausted(
    claude_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(claude_bin, model, tmp_path, claude_max_budget_usd=0.01)
    outcome = await runner.run_phase(phase_request(tmp_path, "attempt", "HG_BUDGET spend"))

    assert outcome.status == "failed" and outcome.error_kind == "budget_exhausted", outcome.message
    assert outcome.details["subtype"] == "error_max_budget_usd"
    assert outcome.cost_usd is not None and outcome.cost_usd > 0.01
    assert len(model.requests("anthropic")) < 7, "the budget should stop the script before its final text"


async def test_permission_denials_are_recorded_in_the_outcome(
    claude_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(claude_bin, model, tmp_path, claude_permission_mode="default")
    outcome = await runner.run_phase(phase_request(tmp_path, "attempt", "HG_DENIED try"))

    assert outcome.status == "completed" and outcome.final_text == "denied", outcome.message
    assert outcome.permission_denials == ["Bash"] and "denied tool calls: Bash" in outcome.message
    assert not (tmp_path / "ws" / "shell_marker.txt").exists()


@pytest.mark.parametrize("status", [500, 400])
async def test_a_model_http_error_is_a_failed_phase(
    claude_bin: Path, model: ScriptedModel, tmp_path: Path, status: int
) -> None:
    runner = _runner(claude_bin, model, tmp_path)
    outcome = await runner.run_phase(phase_request(tmp_path, "attempt", f"HG_ERROR{status} try"))

    assert outcome.status == "failed" and outcome.error_kind == "api_error", outcome.message
    assert outcome.details.get("api_error_status") == status
    assert len(model.requests("anthropic")) == 1, "CLAUDE_CODE_MAX_RETRIES=0 should mean one request"


async def test_the_mcp_launch_is_the_one_server_the_agent_calls(
    claude_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(claude_bin, model, tmp_path)
    outcome = await runner.run_phase(phase_request(tmp_path, "attempt", "HG_MCP call it", mcp=probe_launch(tmp_path)))

    assert outcome.status == "completed", outcome.message
    assert (tmp_path / "ws" / "mcp_marker.txt").read_text() == "from claude"
    # The init event may show the server "pending" (a race with its start); the marker its tool wrote shows it
    # was reached.
    assert [s["name"] for s in outcome.details["mcp_servers"]] == ["probe"]
    env, messages = probe_calls(tmp_path)
    assert env["probe_value"] == "run-7" and env["cwd"] == str(tmp_path / "ws")
    assert env["has_anthropic_key"] is False, "the API key leaked into the MCP server's environment"
    assert any(e.get("method") == "tools/call" for e in messages)
    offered = {t["name"] for t in model.requests("anthropic")[0]["body"]["tools"]}
    assert {"mcp__probe__write_marker", "mcp__probe__echo"} <= offered


def test_argv_and_mcp_config_for_a_resumed_phase_with_a_budget(tmp_path: Path) -> None:
    options = RunnerOptions(claude_bin="claude", claude_max_budget_usd=0.25, claude_extra_args=("--effort", "low"))
    launch = McpLaunch(name="harnessgym", command="/usr/bin/python3", args=["-m", "host"], env={"RUN": "r1"})
    request = phase_request(tmp_path, "repair", "prompt", phase="repair", session_id="sid-1", mcp=launch)
    runner = ClaudeRunner(options)
    config_path = runner.mcp_config_path(request)
    argv = runner.argv(request, "sid-1", config_path)

    assert argv[:5] == ["claude", "-p", "--output-format", "stream-json", "--verbose"]
    assert argv[argv.index("--max-budget-usd") + 1] == "0.25"
    assert argv[argv.index("--resume") + 1] == "sid-1" and "--session-id" not in argv
    assert argv[argv.index("--allowedTools") + 1] == "mcp__harnessgym" and "--strict-mcp-config" in argv
    assert argv[-2:] == ["--effort", "low"]
    assert config_path.parent == request.transcript_path.parent
    config = runner.mcp_config(request, launch, {"ANTHROPIC_API_KEY": "k", "PATH": "/usr/bin:/bin", "RUN": "x"})
    server = config["mcpServers"]["harnessgym"]
    assert server["args"] == ["-u", "ANTHROPIC_API_KEY", "--", "/usr/bin/python3", "-m", "host"]
    assert server["env"] == {"RUN": "r1"}
