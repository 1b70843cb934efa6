"""The host at the byte level: version negotiation, discover fallback, malformed input, both client framings."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
from hostile.helpers import ROOT, make_manifest

from mcp_host import load_manifest, write_active_servers
from mcp_host._supervise import procs
from mcp_host._supervise.proctable import alive
from mcp_host._wire.framing import Decoder, Frame, WireFraming, encode

pytestmark = pytest.mark.anyio


class Raw:
    def __init__(self, proc: anyio.abc.Process) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc = proc
        self.decoder = Decoder()
        self.frames: list[Frame] = []

    async def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        await self.proc.stdin.send(data)

    async def next(self) -> tuple[dict[str, Any], WireFraming]:
        assert self.proc.stdout is not None
        with anyio.fail_after(10):
            while not self.frames:
                self.frames += [f for f in self.decoder.feed(await self.proc.stdout.receive()) if isinstance(f, Frame)]
        frame = self.frames.pop(0)
        return json.loads(frame.body), frame.framing


@asynccontextmanager
async def raw_host(workspace: Path) -> AsyncIterator[Raw]:
    proc = await procs.spawn(
        [sys.executable, "-m", "harnessgym", "host", "--workspace", str(workspace), "--no-socket"],
        cwd=ROOT,
        stderr=None,
    )
    try:
        yield Raw(proc)
    finally:
        assert proc.stdin is not None
        await proc.stdin.aclose()
        with anyio.move_on_after(5):
            await proc.wait()
        await procs.kill_tree(proc.pid, grace=1)
        await proc.aclose()


def _line(msg: dict[str, Any]) -> bytes:
    return json.dumps(msg).encode() + b"\n"


async def test_discover_falls_back_versions_are_negotiated_and_garbage_is_answered(tmp_path: Path) -> None:
    write_active_servers(tmp_path, [load_manifest(make_manifest(tmp_path, "t", framing="newline"), tmp_path)])
    async with raw_host(tmp_path) as host:
        await host.send(_line({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {}}))
        reply, framing = await host.next()
        assert (reply["id"], reply["error"]["code"], framing) == (1, -32601, "newline")
        for rid, asked, got in (
            (2, "2025-06-18", "2025-06-18"),
            (3, "2025-11-25", "2025-11-25"),
            (4, "1999-01-01", "2025-11-25"),
        ):
            await host.send(
                _line(
                    {
                        "jsonrpc": "2.0",
                        "id": rid,
                        "method": "initialize",
                        "params": {"protocolVersion": asked, "capabilities": {}},
                    }
                )
            )
            reply, _ = await host.next()
            assert (reply["id"], reply["result"]["protocolVersion"]) == (rid, got)
            assert reply["result"]["capabilities"]["tools"] == {"listChanged": True}
        await host.send(b"this is not json\n")
        reply, _ = await host.next()
        assert (reply["id"], reply["error"]["code"]) == (None, -32700)
        await host.send(b'{"broken": \n')
        reply, _ = await host.next()
        assert reply["error"]["code"] == -32700
        await host.send(_line([{"jsonrpc": "2.0", "id": 5, "method": "ping"}]))  # type: ignore[arg-type]
        reply, _ = await host.next()
        assert (reply["id"], reply["error"]["code"]) == (None, -32600)
        await host.send(_line({"jsonrpc": "2.0", "id": {"odd": 1}, "method": "ping"}))
        reply, _ = await host.next()
        assert (reply["id"], reply["error"]["code"]) == (None, -32600)
        await host.send(_line({"jsonrpc": "2.0", "id": "s6", "method": "no/such"}))
        reply, _ = await host.next()
        assert (reply["id"], reply["error"]["code"]) == ("s6", -32601)
        await host.send(_line({"jsonrpc": "2.0", "id": 7, "method": "ping"}))
        assert (await host.next())[0] == {"jsonrpc": "2.0", "id": 7, "result": {}}
        await host.send(
            _line({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "t__nope", "arguments": {}}})
        )
        reply, _ = await host.next()
        assert reply["result"]["isError"] and "Unknown tool: t__nope" in reply["result"]["content"][0]["text"]


async def test_a_content_length_client_is_answered_in_content_length(tmp_path: Path) -> None:
    write_active_servers(tmp_path, [load_manifest(make_manifest(tmp_path, "t", framing="newline"), tmp_path)])
    async with raw_host(tmp_path) as host:
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2024-11-05"}}
        await host.send(encode(json.dumps(init).encode(), "content-length"))
        reply, framing = await host.next()
        assert (reply["result"]["protocolVersion"], framing) == ("2024-11-05", "content-length")
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "t__echo", "arguments": {"x": 1}}}
        await host.send(encode(json.dumps(call).encode(), "content-length"))
        reply, framing = await host.next()
        assert framing == "content-length"
        assert json.loads(reply["result"]["content"][0]["text"])["args"] == {"x": 1}


async def test_sigterm_stops_the_host_and_every_server_tree(tmp_path: Path) -> None:
    write_active_servers(
        tmp_path, [load_manifest(make_manifest(tmp_path, "t", "--ignore-sigterm", framing="newline"), tmp_path)]
    )
    async with raw_host(tmp_path) as host:
        await host.send(
            _line(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "tools/call",
                    "params": {"name": "t__spawn_child", "arguments": {}},
                }
            )
        )
        reply, _ = await host.next()
        child = int(reply["result"]["content"][0]["text"])
        tree = procs.descendants(host.proc.pid)
        assert child in tree
        host.proc.send_signal(signal.SIGTERM)
        with anyio.fail_after(10):
            await host.proc.wait()
        assert host.proc.returncode is not None
        assert not [p for p in tree if alive(p)]
