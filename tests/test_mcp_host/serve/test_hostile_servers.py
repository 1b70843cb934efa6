"""Hostile servers and files planted under ``.harnessgym/``: the host keeps serving the healthy parts.

Each test is one attack that broke the host before (see issue 9, section 3).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
from pathlib import Path

import anyio
import pytest
from hostile.helpers import host_client, make_manifest

from harnessgym.artifacts.registry import ArtifactEntry
from harnessgym.artifacts.servers import qualify_mcp
from mcp_host import ManifestError, load_manifest, write_active_servers
from mcp_host._paths import logs_dir
from mcp_host._supervise.procs import spawn
from mcp_host._wire.framing import Decoder, Frame

pytestmark = pytest.mark.anyio

# A stdlib MCP server whose tool list and tools/call behaviour come from the source below.
SERVER = """
import json, os, subprocess, sys, time
TOOLS = {tools}
def send(msg):
    sys.stdout.write(json.dumps(msg) + "\\n"); sys.stdout.flush()
for line in sys.stdin:
    msg = json.loads(line)
    mid, method = msg.get("id"), msg.get("method")
    if mid is None:
        continue
    if method == "initialize":
        send({{"jsonrpc": "2.0", "id": mid, "result": {{"protocolVersion": "2025-06-18",
              "capabilities": {{"tools": {{}}}}, "serverInfo": {{"name": "s", "version": "1"}}}}}})
    elif method == "tools/list":
        send({{"jsonrpc": "2.0", "id": mid, "result": {{"tools": TOOLS}}}})
    elif method == "tools/call":
{call}
    else:
        send({{"jsonrpc": "2.0", "id": mid, "result": {{}}}})
"""
ANSWER = '        send({"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text", "text": "ok"}]}})'


def _server(ws: Path, name: str, tools: list[object], call: str = ANSWER) -> Path:
    directory = ws / ".harnessgym" / "mcp" / name
    directory.mkdir(parents=True)
    (directory / "server.py").write_text(SERVER.format(tools=repr(tools), call=call))
    manifest = {"name": name, "command": sys.executable, "args": [str(directory / "server.py")],
                "self_test": {"command": "true"}}  # fmt: skip
    (directory / "mcp.json").write_text(json.dumps(manifest))
    return directory


def _tool(name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "description": "d", "inputSchema": {"type": "object"}, **extra}


async def test_invalid_tool_definitions_are_repaired_or_dropped_and_the_healthy_ones_survive(tmp_path: Path) -> None:
    bad = [
        _tool("good"),
        {"name": "no_schema", "description": "d"},
        _tool("string_schema", inputSchema={"type": "string"}),
        _tool("good"),
        {"description": "no name", "inputSchema": {"type": "object"}},
        _tool("wrong_description", description=7, outputSchema="nope"),
    ]
    specs = [load_manifest(_server(tmp_path, "bad", bad), tmp_path),
             load_manifest(_server(tmp_path, "fine", [_tool("ping_me")]), tmp_path)]  # fmt: skip
    write_active_servers(tmp_path, specs)
    with anyio.fail_after(60):
        async with host_client(tmp_path) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}  # the SDK client validates each one
    assert sorted(tools) == ["bad__good", "bad__no_schema", "bad__wrong_description", "fine__ping_me"]
    assert tools["bad__no_schema"].input_schema["type"] == "object"
    log = (logs_dir(tmp_path) / "bad.stderr.log").read_text()
    assert "dropped tool 'string_schema'" in log and "dropped a second tool named 'good'" in log


@pytest.mark.parametrize("planted", ["fifo", "symlink"])
async def test_a_fifo_or_symlink_planted_as_a_server_log_neither_hangs_the_host_nor_writes_outside(
    tmp_path: Path, planted: str
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    write_active_servers(ws, [load_manifest(make_manifest(ws, "nl", framing="newline"), ws)])
    log = logs_dir(ws) / "nl.stderr.log"
    log.parent.mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("mine\n")
    if planted == "fifo":
        os.mkfifo(log)
    else:
        log.symlink_to(outside)
    with anyio.fail_after(60):
        async with host_client(ws) as client:
            result = await client.call_tool("nl__echo", {"x": 1})
    assert not result.is_error
    assert outside.read_text() == "mine\n"


async def test_a_server_that_exits_while_a_detached_grandchild_holds_its_stdout_ends_its_calls_at_once(
    tmp_path: Path,
) -> None:
    pidfile = tmp_path / "grandchild.pid"
    # The grandchild leaves the process group (setsid) and keeps the server's stdout; then the server exits.
    call = textwrap.indent(textwrap.dedent(f"""\
        child = subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(600)"],
                                 stdout=sys.stdout, start_new_session=True)
        open({str(pidfile)!r}, "w").write(str(child.pid))
        os._exit(3)
    """), " " * 8)  # fmt: skip
    directory = _server(tmp_path, "leaky", [_tool("leave")], call=call)
    manifest = json.loads((directory / "mcp.json").read_text())
    manifest["timeouts"] = {"tool_seconds": 600}
    (directory / "mcp.json").write_text(json.dumps(manifest))
    write_active_servers(tmp_path, [load_manifest(directory, tmp_path)])
    with anyio.fail_after(60):  # far less than the tool timeout
        async with host_client(tmp_path, timeout=60) as client:
            first = await client.call_tool("leaky__leave", {})
            assert first.is_error and "exited" in str(first.content[0])
            grandchild = int(pidfile.read_text())
            while _alive(grandchild):  # noqa: ASYNC110 - not our child: nothing to wait on but /proc
                await anyio.sleep(0.05)  # killed with its server, although it left the group


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().split(b") ")[1][:1] not in (b"Z", b"X")
    except OSError:
        return False


async def test_an_mcp_artifact_reached_through_a_symlink_out_of_the_workspace_is_not_qualified(
    tmp_path: Path,
) -> None:
    other = tmp_path / "other"
    _server(other, "theirs", [_tool("x")])
    ws = tmp_path / "ws"
    (ws / ".harnessgym" / "mcp").mkdir(parents=True)
    (ws / ".harnessgym" / "mcp" / "theirs").symlink_to(other / ".harnessgym" / "mcp" / "theirs")
    entry = ArtifactEntry(id="mcp:theirs", kind="mcp", path=".harnessgym/mcp/theirs/mcp.json")
    with anyio.fail_after(60):
        (verdict,) = await qualify_mcp([entry], ws)
    assert verdict.status == "failed" and "leads outside the workspace" in verdict.message


def test_a_huge_sparse_file_in_a_server_folder_is_refused_without_reading_it(tmp_path: Path) -> None:
    directory = _server(tmp_path, "heavy", [_tool("x")])
    with open(directory / "weights.bin", "wb") as fh:
        fh.truncate(2 * 1024**3)  # 2 GB, sparse: nothing to read but its size
    with pytest.raises(ManifestError, match="may hold 268435456 bytes at most"):
        load_manifest(directory, tmp_path)


def test_a_bad_content_length_is_skipped_and_framing_resumes_at_the_next_header() -> None:
    bodies = [json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping"}).encode() for i in range(4)]
    stream = b"Content-Length: abc\r\n\r\n" + bodies[0]
    for body in bodies[1:]:
        stream += b"Content-Length: %d\r\n\r\n" % len(body) + body
    items = Decoder().feed(stream)
    assert [i.body for i in items if isinstance(i, Frame)] == bodies[1:]


async def test_the_host_answers_every_call_after_a_bad_content_length(tmp_path: Path) -> None:
    write_active_servers(tmp_path, [])
    argv = [sys.executable, "-I", "-m", "harnessgym", "host", "--workspace", str(tmp_path), "--no-socket"]
    proc = await spawn(argv, env={**os.environ})
    assert proc.stdin is not None and proc.stdout is not None
    try:
        with anyio.fail_after(60):

            async def send(body: bytes, length: bytes | None = None) -> None:
                assert proc.stdin is not None
                await proc.stdin.send(b"Content-Length: " + (length or b"%d" % len(body)) + b"\r\n\r\n" + body)

            await send(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "ping"}).encode(), b"abc")
            for i in (1, 2, 3):
                await send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping"}).encode())
            seen: set[int] = set()
            decoder = Decoder()
            while seen != {1, 2, 3}:
                for item in decoder.feed(await proc.stdout.receive()):
                    if isinstance(item, Frame):
                        reply = json.loads(item.body)
                        if isinstance(reply.get("id"), int):
                            seen.add(reply["id"])
    finally:
        proc.send_signal(signal.SIGTERM)
        with anyio.fail_after(20):
            await proc.wait()
