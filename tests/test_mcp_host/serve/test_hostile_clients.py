"""A hostile client on the host's stdio: reused ids, non-object arguments, a request too large to read."""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import anyio
import pytest
from hostile.helpers import HOSTILE, ROOT, host_client, make_manifest, text_of

from mcp_host import load_manifest, write_active_servers
from mcp_host._supervise.procs import DEVNULL, kill_tree, spawn
from mcp_host._wire.framing import DEFAULT_MAX_MESSAGE_BYTES, Decoder, Frame, Junk

pytestmark = pytest.mark.anyio

TOO_BIG = "x" * (DEFAULT_MAX_MESSAGE_BYTES + 1)  # with its envelope, just over the limit


class RawClient:
    """Newline-delimited JSON-RPC over a host's stdio, one reply at a time."""

    def __init__(self, proc: Any) -> None:
        self.proc = proc
        self.buf = b""

    async def send(self, data: bytes) -> None:
        await self.proc.stdin.send(data)

    async def reply(self) -> dict[str, Any]:
        while b"\n" not in self.buf:
            self.buf += await self.proc.stdout.receive()
        line, self.buf = self.buf.split(b"\n", 1)
        out: dict[str, Any] = json.loads(line)
        return out


def _req(rid: Any, method: str, params: dict[str, Any]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}).encode() + b"\n"


async def test_reused_ids_bad_arguments_and_an_oversized_request_each_get_their_own_error(tmp_path: Path) -> None:
    write_active_servers(tmp_path, [load_manifest(make_manifest(tmp_path, "toy"), tmp_path)])
    argv = [sys.executable, "-m", "harnessgym", "host", "--workspace", str(tmp_path), "--no-socket"]
    proc = await spawn(argv, cwd=ROOT, stderr=DEVNULL)
    client = RawClient(proc)
    try:
        with anyio.fail_after(30):
            await client.send(
                _req(
                    1,
                    "initialize",
                    {
                        "protocolVersion": "2025-06-18",
                        "capabilities": {},
                        "clientInfo": {"name": "raw", "version": "1"},
                    },
                )
            )
            hello = await client.reply()
            assert hello["id"] == 1 and hello["result"]["serverInfo"]["version"] == metadata.version("harnessgym")
            await client.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')

            await client.send(_req(2, "tools/call", {"name": "toy__sleep", "arguments": {"seconds": 0.5}}))
            await client.send(_req(2, "tools/call", {"name": "toy__echo", "arguments": {}}))
            first, second = await client.reply(), await client.reply()
            assert first["id"] == 2 and "already in use" in first["error"]["message"]
            assert second["id"] == 2 and second["result"]["content"][0]["text"] == "slept 0.5"

            await client.send(_req(3, "tools/call", {"name": "toy__echo", "arguments": [1, 2]}))
            assert (await client.reply())["error"]["code"] == -32602

            await client.send(_req("big-4", "tools/call", {"name": "toy__echo", "arguments": {"a": TOO_BIG}}))
            too_big = await client.reply()
            assert too_big["id"] == "big-4" and "limit" in too_big["error"]["message"]

            nested = b'{"jsonrpc":"2.0","method":"tools/call","params":{"arguments":{"id":5,"a":"' + TOO_BIG.encode()
            await client.send(nested + b'"}},"id":6}\n')
            assert (await client.reply())["id"] is None  # an inner "id" is never mistaken for the request's

            await client.send(_req(7, "ping", {}))
            assert await client.reply() == {"jsonrpc": "2.0", "id": 7, "result": {}}
    finally:
        await kill_tree(proc.pid, grace=2)
        await proc.aclose()


def test_a_line_just_over_the_limit_is_refused_even_when_its_newline_comes_in_the_same_chunk() -> None:
    decoder = Decoder(max_size=100)
    items = decoder.feed(b'{"a":"' + b"x" * 100 + b'"}\n{"ok":1}\n')
    assert [type(i).__name__ for i in items] == ["Junk", "Frame"]
    assert isinstance(items[0], Junk) and items[0].error is not None
    assert items[1] == Frame(b'{"ok":1}', "newline")


async def test_a_server_that_stops_reading_its_stdin_does_not_block_calls_to_the_others(tmp_path: Path) -> None:
    deaf = make_manifest(tmp_path, "deaf", script=str(HOSTILE / "deaf_server.py"), timeouts={"tool_seconds": 30})
    toy = make_manifest(tmp_path, "toy")
    write_active_servers(tmp_path, [load_manifest(d, tmp_path) for d in (deaf, toy)])

    with anyio.fail_after(30):
        async with host_client(tmp_path, "--no-socket", timeout=20) as client:
            assert {"deaf__echo", "toy__echo"} <= {t.name for t in (await client.list_tools()).tools}
            async with anyio.create_task_group() as tg:
                # More than its stdin pipe holds: the host's write to it blocks until the call ends.
                tg.start_soon(client.call_tool, "deaf__echo", {"a": "x" * (4 << 20)})
                with anyio.fail_after(8):
                    for i in range(3):
                        assert f'"i": {i}' in text_of(await client.call_tool("toy__echo", {"i": i}))
                tg.cancel_scope.cancel()
