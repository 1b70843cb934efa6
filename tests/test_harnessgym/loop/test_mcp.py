"""MCP-server artifacts through the loop: both framings qualified, activated, handed over and called."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.loop import config, example_workspace, marked_processes, record, run_bounded, script, states, step

from mcp_host._supervise.procs import kill_tree

pytestmark = pytest.mark.anyio


async def test_mcp_servers_in_both_framings_are_qualified_activated_and_called(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    fake = script(
        tmp_path,
        step("build",
             {"do": "mcp_server", "name": "lines", "framing": "ndjson", "tools": ["inspect"]},
             {"do": "mcp_server", "name": "framed", "framing": "content-length", "tools": ["measure"]},
             {"do": "mcp_server", "name": "broken", "framing": "ndjson", "self_test": "fail"},
             iteration=1),
        step("attempt",
             {"do": "mcp_call", "server": "lines", "tool": "inspect", "arguments": {"x": 1}},
             {"do": "result", "set": {"status": "blocked"}},
             iteration=2),
    )  # fmt: skip
    try:
        summary = await run_bounded(config(ws, tmp_path, fake, iterations=2, artifact_repair_attempts=0), 90)
    finally:
        for pid in marked_processes(ws):  # a host daemon started on demand by `harnessgym mcp call`
            await kill_tree(pid, grace=1.0)
    assert states(ws) == {
        "mcp:.harnessgym/mcp/lines/harnessgym-mcp.json": "active",
        "mcp:.harnessgym/mcp/framed/harnessgym-mcp.json": "active",
        "mcp:.harnessgym/mcp/broken/harnessgym-mcp.json": "quarantined",
    }
    activation = json.loads((ws / ".harnessgym" / "activation.json").read_text())
    assert sorted(s["name"] for s in activation["mcp_servers"]) == ["framed", "lines"]
    transcript = (ws / ".harnessgym/runs" / summary.run_id / "iterations/2/attempt.transcript.txt").read_text()
    assert '"mcp_server": "harnessgym"' in transcript
    call = next(json.loads(ln.split(" ", 1)[1]) for ln in transcript.splitlines() if ln.startswith("[tool_result]"))
    assert call["returncode"] == 0, call
    assert json.loads(call["stdout"])["arguments"] == {"x": 1}
    assert record(ws, summary.run_id, 2).phases["attempt"].status == "completed"
