"""What the control-server tests share: the example task, a fake-agent script whose attempt hangs once, and
calling a tool that must succeed (or must be refused) over any SDK ``Client``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcp import Client

__all__ = ["EXAMPLE", "VERIFY", "call", "hang_script", "refused"]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "numerical_debug_task"
VERIFY = "python verifier.py"
# An attempt that hangs (with a child) the first time and solves on the next try: for cancel and resume.
HANG_ONCE = {
    "steps": [
        {
            "phase": "attempt",
            "actions": [
                {"do": "once", "marker": ".hang_once", "actions": [{"do": "hang", "children": 1}]},
                {"do": "write", "path": "done.txt", "text": "ok"},
                {"do": "result", "set": {"status": "solved", "summary": "wrote done.txt"}},
            ],
        }
    ]
}


def with_fake_runner(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` with ``runner="fake"`` for a tool that starts a new run and names no runner: the default is
    ``auto`` (an agent CLI on the PATH, an error without one), and these tests drive the offline fake agent."""
    starts = tool == "start_run" or (tool == "start_iteration" and "run_id" not in arguments)
    return {"runner": "fake", **arguments} if starts else arguments


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """The tool's structured result; the test fails if the call was an error."""
    result = await client.call_tool(tool, with_fake_runner(tool, arguments))
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    """The error text of a call that must fail."""
    result = await client.call_tool(tool, with_fake_runner(tool, arguments))
    assert result.is_error, result.structured_content
    text = result.content[0].text  # type: ignore[union-attr]
    assert isinstance(text, str)
    return text


def hang_script(root: Path) -> str:
    """Write :data:`HANG_ONCE` under ``root`` (so the server may read it) and return its path."""
    path = root / "hang_once.json"
    path.write_text(json.dumps(HANG_ONCE))
    return str(path)
