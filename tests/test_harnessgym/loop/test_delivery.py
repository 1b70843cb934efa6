"""Delivery: every fresh session gets the host's tools before its first turn, or the failure is recorded.

The real CLIs are exercised in ``test_real_e2e.py``; here the pieces: what each runner reads as delivered,
the host offering qualified tool lists while servers warm up, one daemon however many cold clients start.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest
from hostile.helpers import ROOT, host_client, make_manifest
from support.real_clis import phase_request

from harnessgym.artifacts.qualification import qualify_in_fresh_copy
from harnessgym.artifacts.registry import ArtifactEntry
from harnessgym.store.layout import Layout
from mcp_host import load_manifest, write_active_servers
from mcp_host._supervise.procs import kill_tree, spawn
from runners._base import McpLaunch
from runners._claude import _ClaudeEvents
from runners._codex import CodexRunner
from runners._options import RunnerOptions

pytestmark = pytest.mark.anyio


class _NoTranscript:
    def write(self, kind: str, text: str = "") -> None:
        pass


def _init(status: str, tools: list[str]) -> dict[str, object]:
    return {"type": "system", "subtype": "init", "session_id": "s", "tools": ["Bash", *tools],
            "mcp_servers": [{"name": "harnessgym", "status": status}]}  # fmt: skip


class _Handed:
    """The part of a phase request the event reader looks at: the MCP server it was handed, if any."""

    def __init__(self, name: str | None) -> None:
        self.mcp = type("Launch", (), {"name": name})() if name else None
        self.on_action = None


def test_claude_reads_a_pending_host_as_a_failed_delivery_and_a_connected_one_as_delivered() -> None:
    pending = _ClaudeEvents(_NoTranscript(), "s", _Handed("harnessgym"))  # type: ignore[arg-type]
    pending.handle(_init("pending", []))
    failed = pending.delivery()
    assert failed is not None and failed.status == "failed" and failed.server_status == "pending"
    connected = _ClaudeEvents(_NoTranscript(), "s", _Handed("harnessgym"))  # type: ignore[arg-type]
    connected.handle(_init("connected", ["mcp__harnessgym__probe__run"]))
    delivered = connected.delivery()
    assert delivered is not None
    assert (delivered.status, delivered.tools) == ("delivered", ["mcp__harnessgym__probe__run"])
    assert _ClaudeEvents(_NoTranscript(), "s", _Handed(None)).delivery() is None  # type: ignore[arg-type]  # no server handed over: nothing to judge


def test_codex_marks_the_host_entry_required(tmp_path: Path) -> None:
    launch = McpLaunch(command="/usr/bin/python3", args=["-I", "connect.py"])
    request = phase_request(tmp_path, "attempt", "p", mcp=launch)
    argv = CodexRunner(RunnerOptions()).argv(request, {})
    assert "mcp_servers.harnessgym.required=true" in argv


SLOW_SERVER = """
import json, os, sys, time
flags = sys.argv[1]
if os.path.exists(os.path.join(flags, "slow")):
    time.sleep(3)  # warming up (an SDK server takes about a second; under load several)
for line in sys.stdin:
    msg = json.loads(line)
    mid = msg.get("id")
    if mid is None:
        continue
    if msg["method"] == "initialize":
        result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "w"}}
    elif msg["method"] == "tools/list":
        result = {"tools": [{"name": "warm", "inputSchema": {"type": "object"}}]}
    elif msg["method"] == "tools/call":
        result = {"content": [{"type": "text", "text": "warm"}]}
    else:
        result = {}
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": mid, "result": result}) + "\\n")
    sys.stdout.flush()
"""


async def test_the_host_lists_a_qualified_server_from_its_verdict_while_the_server_is_still_starting(
    tmp_path: Path,
) -> None:
    ws, template, flags = tmp_path / "ws", tmp_path / "template", tmp_path / "flags"
    for d in (ws, template, flags):
        d.mkdir()
    folder = ws / ".harnessgym" / "mcp" / "warming"
    folder.mkdir(parents=True)
    (folder / "server.py").write_text(SLOW_SERVER)
    (folder / "mcp.json").write_text(json.dumps({"name": "warming", "command": sys.executable,
                                                  "args": [".harnessgym/mcp/warming/server.py", str(flags)],
                                                  "framing": "newline", "self_test": {"command": "true"}}))  # fmt: skip
    entry = ArtifactEntry(id="mcp:warming", kind="mcp", path=".harnessgym/mcp/warming/mcp.json")
    with anyio.fail_after(60):
        report = await qualify_in_fresh_copy(Layout(ws), template, tmp_path / "q", [entry])
    assert report.status == "passed", report
    write_active_servers(ws, [load_manifest(folder, ws)])
    (flags / "slow").write_text("")  # from now on the server takes 3 s before it reads anything
    with anyio.fail_after(60):
        async with host_client(ws) as client:
            listed = {t.name for t in (await client.list_tools()).tools}
            first = await client.call_tool("warming__warm", {})  # waits for the start the listing did not
    assert listed == {"warming__warm"}
    assert not first.is_error and "warm" in str(first.content[0])
    log = (ws / ".harnessgym" / "host" / "logs" / "warming.stderr.log").read_text()
    assert log.count("started pid") == 1  # one start, begun before the listing was answered


async def test_twenty_cold_mcp_call_clients_leave_one_host_daemon_serving_them_all(tmp_path: Path) -> None:
    write_active_servers(tmp_path, [load_manifest(make_manifest(tmp_path, "nl", framing="newline"), tmp_path)])
    call = [sys.executable, "-I", "-m", "harnessgym", "mcp", "call", "--workspace", str(tmp_path), "--server", "nl",
            "--tool", "pid", "--idle-timeout", "30"]  # fmt: skip
    answers: list[str] = []

    async def one() -> None:
        # spawn, not run_process: that sweeps what a finished command leaves, the daemon included
        proc = await spawn(call, cwd=ROOT, env=dict(os.environ), stderr=None)
        assert proc.stdout is not None
        out = b""
        async for chunk in proc.stdout:
            out += chunk
        assert await proc.wait() == 0
        answers.append(out.decode().strip())

    try:
        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                for _ in range(20):
                    tg.start_soon(one)
        assert len(set(answers)) == 1, answers  # one server process, so one host, answered every call
        with anyio.fail_after(30):  # a daemon that lost the lock exits at once, not after its idle timeout
            while len(_hosts(tmp_path)) > 1:  # noqa: ASYNC110 - not our children: only /proc tells
                await anyio.sleep(0.1)
        assert len(_hosts(tmp_path)) == 1
    finally:
        for pid in _hosts(tmp_path):
            await kill_tree(pid, grace=1.0)


def _hosts(ws: Path) -> list[int]:
    return [p for p in _pids_with(f"host\0--workspace\0{ws}\0") if p != os.getpid()]


def _pids_with(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if text.encode() in fh.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


async def test_the_agent_entry_relays_to_the_running_host_and_tags_its_calls(tmp_path: Path) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    from mcp_host import CONNECT_SCRIPT, socket_path

    write_active_servers(tmp_path, [load_manifest(make_manifest(tmp_path, "nl", framing="newline"), tmp_path)])
    argv = [sys.executable, "-I", "-m", "harnessgym", "host", "--workspace", str(tmp_path), "--no-stdio"]
    daemon = await spawn(argv, cwd=ROOT, env=dict(os.environ), stderr=None)
    tag = json.dumps({"run_id": "r7", "iteration": 3, "phase": "attempt"})
    entry = StdioServerParameters(command=sys.executable, args=["-I", "-S", CONNECT_SCRIPT, "--socket",
                                                                str(socket_path(tmp_path)), "--tag", tag])  # fmt: skip
    try:
        with anyio.fail_after(60):
            async with Client(entry, read_timeout_seconds=30) as client:
                result = await client.call_tool("nl__echo", {"x": 1})
    finally:
        await kill_tree(daemon.pid, grace=1.0)
        await daemon.wait()
    assert not result.is_error
    (line,) = (tmp_path / ".harnessgym" / "mcp_calls.jsonl").read_text().splitlines()
    assert {k: json.loads(line)[k] for k in ("run_id", "iteration", "phase")} == json.loads(tag)
