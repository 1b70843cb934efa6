"""What the Claude Code and Codex runner tests share: the scripted conversations both CLIs go through, a prompt
too long for argv, and the probe MCP server with its log.

Each CLI names its shell tool differently (Claude ``Bash {"command"}``, Codex ``exec_command {"cmd"}``), so the
scripts take the shell call as a function.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runners._base import McpLaunch

__all__ = ["LONG_PROMPT", "SHELL_WRITE", "START_SLEEP", "probe_calls", "probe_launch", "shared_scripts"]

PROBE_SERVER = Path(__file__).resolve().parent.parent / "scripted_model" / "probe_mcp_server.py"
SHELL_WRITE = "echo shell-ran > shell_marker.txt"
START_SLEEP = "nohup sleep 300 >/dev/null 2>&1 & echo $! > sleep.pid; echo started"
LONG_PROMPT = "HG_FRESH please work.\n" + ("context line that pads the prompt\n" * 6000)
"""Longer than one argv string may be (128 KiB): the prompt must travel through stdin."""

Step = dict[str, Any]


def shared_scripts(shell: Callable[[str], Step], agent: str) -> list[dict[str, Any]]:
    """HG_FRESH (a shell write, then text), HG_RESUME, HG_STALL (a background sleep, then silence),
    HG_ERROR500/HG_ERROR400 and HG_MCP (the probe's ``write_marker`` with ``from <agent>``)."""
    return [
        {"marker": "HG_FRESH", "steps": [shell(SHELL_WRITE), {"text": "fresh done"}]},
        {"marker": "HG_RESUME", "steps": [{"text": "resumed done"}]},
        {"marker": "HG_STALL", "steps": [shell(START_SLEEP), {"stall": 120}]},
        {"marker": "HG_ERROR500", "steps": [{"error": {"status": 500, "message": "scripted outage"}}]},
        {"marker": "HG_ERROR400", "steps": [{"error": {"status": 400, "message": "scripted bad request"}}]},
        {
            "marker": "HG_MCP",
            "steps": [
                {"tool": "mcp__probe__write_marker", "arguments": {"text": f"from {agent}"}},
                {"text": "mcp done"},
            ],
        },
    ]


def probe_launch(tmp_path: Path) -> McpLaunch:
    """The probe MCP server as the agent's one server, logging to ``tmp_path/probe.jsonl``."""
    return McpLaunch(
        name="probe",
        command=sys.executable,
        args=[str(PROBE_SERVER)],
        env={"PROBE_LOG": str(tmp_path / "probe.jsonl"), "PROBE_VALUE": "run-7"},
    )


def probe_calls(tmp_path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What the probe saw: the environment it started with, and every message after that."""
    entries = [json.loads(line) for line in (tmp_path / "probe.jsonl").read_text().splitlines()]
    env: dict[str, Any] = entries[0]["env"]
    return env, entries[1:]
