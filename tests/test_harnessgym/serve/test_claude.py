"""The real Claude Code CLI drives ``harnessgym serve`` as its MCP server.

Claude Code (pinned, from npm) talks to the scripted model server; the script makes it call ``start_run`` on a
copy of the example task, then ``get_run`` (waiting) until the run is solved. The run itself uses the fake agent,
so nothing leaves 127.0.0.1. This is ``claude mcp add harnessgym -- harnessgym serve`` in test form.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from scripted_model import scripted_model
from support.real_clis import claude_env, ensure_real_clis

import harnessgym
from mcp_host._supervise.procs import run_process

pytestmark = [pytest.mark.anyio, pytest.mark.real_cli]

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "numerical_debug_task"
RUN_ID = "claude-driven-1"
MARKER = "HG_SERVE_DRIVE"
CLAUDE_SECONDS = 150.0
START = {
    "workspace": "task",
    "task_file": "task/task.md",
    "verify_command": "python verifier.py",
    "iterations": 2,
    "run_id": RUN_ID,
    "runner": "fake",
}
SCRIPT: dict[str, Any] = {
    "scripts": [
        {
            "marker": MARKER,
            "steps": [
                # As Claude Code itself tells a model that calls a server still connecting: wait for it first.
                # Whether serve is up before the first turn is a matter of speed, not of this behaviour.
                {"tool": "WaitForMcpServers", "arguments": {}},
                {"tool": "mcp__harnessgym__start_run", "arguments": START},
                {"tool": "mcp__harnessgym__get_run", "arguments": {"run_id": RUN_ID, "wait_seconds": 60}},
                {"tool": "mcp__harnessgym__get_run", "arguments": {"run_id": RUN_ID}},
                {"text": "The harnessgym run is solved."},
            ],
        }
    ],
    "fallback": "No scripted step for this prompt.",
}


@pytest.mark.slow
async def test_claude_code_starts_a_run_through_serve_and_follows_it_until_solved(tmp_path: Path) -> None:
    claude = ensure_real_clis().claude
    root = tmp_path / "root"
    shutil.copytree(EXAMPLE, root / "task")
    serve = [
        sys.executable,
        "-m",
        "harnessgym",
        "serve",
        "--allow-root",
        str(root),
        "--state-dir",
        str(tmp_path / "state"),
    ]
    config = {"mcpServers": {"harnessgym": {"type": "stdio", "command": serve[0], "args": serve[1:]}}}
    (tmp_path / "mcp.json").write_text(json.dumps(config))
    (tmp_path / "prompt.txt").write_text(f"{MARKER}: run the numerics task with harnessgym and report the result.")

    with scripted_model(SCRIPT, tmp_path / "model", lifetime=CLAUDE_SECONDS + 30) as model:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_"))}
        env.update(claude_env(tmp_path / "home", model.base_url))
        env.update({"IS_SANDBOX": "1", "MCP_TIMEOUT": "30000", "MCP_TOOL_TIMEOUT": "120000"})
        argv = [
            str(claude),
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--model",
            "mock-model",
            "--permission-mode",
            "bypassPermissions",
            "--strict-mcp-config",
            "--mcp-config",
            str(tmp_path / "mcp.json"),
            "--allowedTools",
            "mcp__harnessgym",
        ]
        with anyio.fail_after(CLAUDE_SECONDS + 20):
            result = await run_process(
                argv,
                cwd=root,
                env=env,
                timeout=CLAUDE_SECONDS,
                stdin_path=tmp_path / "prompt.txt",
                stdout_path=tmp_path / "claude.stdout.jsonl",
                stderr_path=tmp_path / "claude.stderr.txt",
            )
        requests = model.requests("anthropic")

    lines = (tmp_path / "claude.stdout.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    final = events[-1] if events else {}
    assert result.returncode == 0 and final.get("is_error") is False, result.stderr_tail + result.stdout_tail
    assert final.get("result") == "The harnessgym run is solved."
    init = next(e for e in events if e.get("subtype") == "init")
    # Listed at init; whether it was already "connected" or still "pending" then is a race with serve's start
    # (a matter of speed). That the server was reached shows in the tool results the model read back, below.
    assert [s["name"] for s in init["mcp_servers"]] == ["harnessgym"]

    steps = [(r["script"], r["step"]) for r in requests if r["script"] == MARKER]
    assert steps[-5:] == [(MARKER, 0), (MARKER, 1), (MARKER, 2), (MARKER, 3), (MARKER, 4)]
    # What the model read back from get_run: the run solved, with the verifier's evidence.
    [answer] = [b for b in requests[-1]["body"]["messages"][-1]["content"] if b["type"] == "tool_result"]
    seen = json.loads(answer["content"] if isinstance(answer["content"], str) else answer["content"][0]["text"])
    assert (seen["run"]["run_id"], seen["run"]["status"], seen["run"]["evidence"]) == (RUN_ID, "solved", "verified")
    info = harnessgym.get_run(root / "task", RUN_ID)
    assert (info.status, info.solved, info.evidence) == ("solved", True, "verified")
