"""CodexRunner against the real Codex CLI (0.169.0) and the scripted model server."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripted_model import ScriptedModel, scripted_model
from support.real_clis import codex_config, codex_env, ensure_real_clis, phase_request, pid_gone
from support.runner_cases import LONG_PROMPT, SHELL_WRITE, probe_calls, probe_launch, shared_scripts

from runners._base import McpLaunch
from runners._codex import CodexRunner
from runners._options import RunnerOptions

pytestmark = [pytest.mark.anyio, pytest.mark.real_cli]


def shell(command: str) -> dict[str, Any]:
    return {"tool": "exec_command", "arguments": {"cmd": command}}


SCRIPT: dict[str, Any] = {"scripts": shared_scripts(shell, "codex")}


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


async def test_fresh_thread_then_resume_keeps_the_thread_and_sends_the_history(
    codex_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(codex_bin, model, tmp_path, codex_sandbox="workspace-write")
    fresh = await runner.run_phase(phase_request(tmp_path, "attempt", LONG_PROMPT))

    assert fresh.status == "completed", fresh.message
    assert fresh.session_id is not None and fresh.final_text == "fresh done"
    assert (tmp_path / "ws" / "shell_marker.txt").read_text().strip() == "shell-ran"
    assert fresh.usage["input_tokens"] > 0 and fresh.cost_usd is None
    transcript = (tmp_path / "phases" / "attempt" / "transcript.log").read_text()
    assert "exec: " in transcript and "fresh done" in transcript

    resumed = await runner.run_phase(
        phase_request(tmp_path, "build", "HG_RESUME build now", phase="build", session_id=fresh.session_id)
    )
    assert resumed.status == "completed", resumed.message
    assert resumed.session_id == fresh.session_id and resumed.final_text == "resumed done"
    last = model.requests("openai")[-1]
    assert last["script"] == "HG_RESUME"
    history = json.dumps(last["body"]["input"])
    assert "HG_FRESH" in history and SHELL_WRITE in history and "fresh done" in history
    # The sandbox flag went before `resume`, so the resumed turn is not read-only.
    metadata = json.loads(last["headers"]["x-codex-turn-metadata"])
    assert "workspace-write" in json.dumps(metadata), metadata


async def test_a_phase_timeout_kills_the_cli_and_the_process_it_started(
    codex_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(codex_bin, model, tmp_path)
    outcome = await runner.run_phase(phase_request(tmp_path, "attempt", "HG_STALL go", timeout=6))

    assert outcome.status == "timeout" and outcome.error_kind == "timeout" and outcome.timed_out
    first = json.loads((tmp_path / "phases" / "attempt" / "stdout.jsonl").read_text().splitlines()[0])
    assert first["type"] == "thread.started" and outcome.session_id == first["thread_id"]
    sleep_pid = int((tmp_path / "ws" / "sleep.pid").read_text())
    assert pid_gone(sleep_pid), "the background sleep the agent started outlived the phase"
    # It was the phase's own 6 s that ended it (how soon after is the machine's speed, not a behaviour).
    assert "ran out of its 6 s and was killed" in outcome.message


@pytest.mark.parametrize("status", [500, 400])
async def test_a_model_http_error_is_a_failed_phase(
    codex_bin: Path, model: ScriptedModel, tmp_path: Path, status: int
) -> None:
    runner = _runner(codex_bin, model, tmp_path)
    outcome = await runner.run_phase(phase_request(tmp_path, "attempt", f"HG_ERROR{status} try"))

    assert outcome.status == "failed" and outcome.error_kind == "turn_failed", outcome.message
    assert outcome.session_id is not None
    assert len(model.requests("openai")) == 1, "request_max_retries=0 should mean one request"


async def test_the_mcp_launch_is_the_one_server_the_agent_calls(
    codex_bin: Path, model: ScriptedModel, tmp_path: Path
) -> None:
    runner = _runner(codex_bin, model, tmp_path)
    outcome = await runner.run_phase(phase_request(tmp_path, "attempt", "HG_MCP call it", mcp=probe_launch(tmp_path)))

    assert outcome.status == "completed", outcome.message
    assert (tmp_path / "ws" / "mcp_marker.txt").read_text() == "from codex"
    assert outcome.details["mcp_tool_calls"] == [{"server": "probe", "tool": "write_marker", "status": "completed"}]
    env, messages = probe_calls(tmp_path)
    assert env["probe_value"] == "run-7" and env["cwd"] == str(tmp_path / "ws")
    assert env["phase_tag"], "env_vars should forward the phase tag to the server"
    assert any(e.get("method") == "tools/call" for e in messages)
    tools = model.requests("openai")[0]["body"]["tools"]
    mcp_namespaces = [t["name"] for t in tools if t.get("type") == "namespace" and t["name"].startswith("mcp__")]
    assert mcp_namespaces == ["mcp__probe"]


def test_argv_puts_every_flag_before_resume_and_passes_config_values_as_json(tmp_path: Path) -> None:
    options = RunnerOptions(
        codex_bin="codex",
        codex_model="mock-model",
        codex_sandbox="workspace-write",
        codex_config=("model_provider=mock", "x.retries=0", 'x.args=["a b.py"]', "x.flag=false"),
    )
    launch = McpLaunch(name="harnessgym", command="/usr/bin/python3", args=["-m", "host"], env={"RUN": "r1"})
    request = phase_request(tmp_path, "build", "prompt", phase="build", session_id="thread-1", mcp=launch)
    argv = CodexRunner(options).argv(request, {"PYTHONPATH": "/p", "OPENAI_API_KEY": "secret"})

    assert argv[:4] == ["codex", "exec", "--json", "--skip-git-repo-check"]
    assert argv[-3:] == ["resume", "thread-1", "-"]
    pairs = dict(itertools.pairwise(argv))
    assert pairs["-s"] == "workspace-write" and pairs["-m"] == "mock-model" and pairs["--disable"] == "plugins"
    configs = [argv[i + 1] for i, a in enumerate(argv) if a == "-c"]
    assert 'approval_policy="never"' in configs and "analytics.enabled=false" in configs
    assert 'model_provider="mock"' in configs and "x.retries=0" in configs and "x.flag=false" in configs
    assert 'x.args=["a b.py"]' in configs
    assert 'mcp_servers.harnessgym.command="/usr/bin/python3"' in configs
    assert 'mcp_servers.harnessgym.args=["-m", "host"]' in configs
    assert 'mcp_servers.harnessgym.env.RUN="r1"' in configs
    # Without it a sandboxed `codex exec` refuses the host's tools ("requires approval, but approval policy is never").
    assert 'mcp_servers.harnessgym.default_tools_approval_mode="approve"' in configs
    forwarded = 'mcp_servers.harnessgym.env_vars=["PYTHONPATH", "HARNESSGYM_PROC_TAG"]'
    assert forwarded in configs, "credentials must not be forwarded"
