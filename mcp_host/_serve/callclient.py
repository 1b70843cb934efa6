"""``harnessgym mcp call``: reach the host already running for a workspace, over its unix socket.

Agent sessions that show no native MCP tools run ``harnessgym mcp call --server S --tool T`` in a shell.
Each invocation connects to the workspace's host (the one a runner started for the session, or a background
daemon started here on demand that exits after an idle timeout), so servers keep their state and are not
restarted per call. It speaks plain MCP on the socket: ``initialize`` (carrying the caller's run tag),
``tools/list`` to find the qualified name of (server, tool), then ``tools/call``.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

from mcp_host._errors import HostUnavailableError
from mcp_host._paths import daemon_log_path, private_dir, socket_path
from mcp_host._serve.telemetry import RunTag
from mcp_host._supervise import procs
from mcp_host._supervise.env import host_env
from mcp_host._version import __version__
from mcp_host._wire import jsonrpc
from mcp_host._wire.framing import Decoder, Frame, encode

__all__ = ["HostClient", "call_tool", "list_tools"]

DAEMON_IDLE_SECONDS = 600.0


class HostClient:
    """A minimal MCP client over the host's unix socket (no SDK: it runs once per shell command)."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self._stream = stream
        self._decoder = Decoder()
        self._ids = itertools.count(1)
        self._ready: list[dict[str, Any]] = []

    async def request(self, method: str, params: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
        rid = next(self._ids)
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        await self._stream.send(encode(jsonrpc.dumps(msg), "newline"))
        with anyio.fail_after(timeout):
            while True:
                for item in self._decoder.feed(await self._stream.receive(1 << 20)):
                    if isinstance(item, Frame):
                        reply = json.loads(item.body)
                        if isinstance(reply, dict) and reply.get("id") == rid and "method" not in reply:
                            return reply

    async def notify(self, method: str) -> None:
        await self._stream.send(encode(jsonrpc.dumps({"jsonrpc": "2.0", "method": method}), "newline"))

    async def initialize(self, tag: RunTag, timeout: float) -> None:
        params = {
            "protocolVersion": jsonrpc.LATEST_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "harnessgym-mcp-call", "version": __version__},
            "_meta": {"harnessgym/run": tag.model_dump(exclude_none=True)},
        }
        reply = await self.request("initialize", params, timeout)
        if "error" in reply:
            raise HostUnavailableError(f"the host refused initialize: {reply['error']}")
        await self.notify("notifications/initialized")

    async def tools(self, timeout: float) -> list[dict[str, Any]]:
        reply = await self.request("tools/list", None, timeout)
        tools = reply.get("result", {}).get("tools", [])
        return [t for t in tools if isinstance(t, dict)]


def _owner(tool: dict[str, Any]) -> tuple[str, str]:
    meta = tool.get("_meta") or {}
    if "harnessgym/server" in meta:
        return str(meta["harnessgym/server"]), str(meta.get("harnessgym/tool", ""))
    server, _, name = str(tool["name"]).partition("__")
    return server, name


async def _connect(workspace: Path, start: bool, wait: float, idle: float) -> anyio.abc.SocketStream:
    path = socket_path(workspace)
    try:
        private_dir(path.parent)  # a socket in a directory another user controls may be theirs
    except OSError as exc:
        raise HostUnavailableError(f"will not use the host socket {path}: {exc}") from None
    try:
        return await anyio.connect_unix(path)
    except OSError as exc:
        if not start:
            raise HostUnavailableError(f"no harnessgym host is running for {workspace} ({path}: {exc})") from None
    # -I: isolated from the workspace's import path (the daemon runs there), so a harnessgym/ folder in it
    # cannot stand in for the host.
    argv = [
        sys.executable,
        "-I",
        "-m",
        "harnessgym",
        "host",
        "--workspace",
        str(workspace),
        "--no-stdio",
        "--idle-timeout",
        str(idle),
    ]
    # The daemon's servers can read its /proc/<pid>/environ: it gets no more than the host's allow-list.
    procs.spawn_detached(argv, cwd=workspace, env=host_env(), log_path=daemon_log_path(workspace))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        await anyio.sleep(0.05)
        try:
            return await anyio.connect_unix(path)
        except OSError:
            continue
    raise HostUnavailableError(
        f"started a harnessgym host daemon for {workspace} but it did not listen on {path} within {wait:g} s; "
        f"see {daemon_log_path(workspace)}"
    )


async def list_tools(
    workspace: Path,
    *,
    tag: RunTag | None = None,
    timeout: float = 60.0,
    start: bool = True,
    idle_timeout: float = DAEMON_IDLE_SECONDS,
) -> list[dict[str, Any]]:
    """The host's tool list (qualified names, with the owning server and tool in ``_meta``)."""
    stream = await _connect(workspace, start, timeout, idle_timeout)
    async with stream:
        client = HostClient(stream)
        await client.initialize(tag or RunTag.from_env(), timeout)
        return await client.tools(timeout)


async def call_tool(
    workspace: Path,
    server: str,
    tool: str,
    arguments: dict[str, Any],
    *,
    tag: RunTag | None = None,
    timeout: float = 120.0,
    start: bool = True,
    idle_timeout: float = DAEMON_IDLE_SECONDS,
) -> dict[str, Any]:
    """Call ``tool`` of ``server`` through the workspace's host; returns the JSON-RPC reply (result or error).

    With ``start``, a host daemon is started when none is running; it exits after ``idle_timeout`` seconds
    without clients.
    """
    stream = await _connect(workspace, start, timeout, idle_timeout)
    async with stream:
        client = HostClient(stream)
        await client.initialize(tag or RunTag.from_env(), timeout)
        tools = await client.tools(timeout)
        matches = [t["name"] for t in tools if _owner(t) == (server, tool)]
        if not matches:
            offered = sorted("/".join(_owner(t)) for t in tools)
            text = f"no tool {tool!r} on server {server!r}; the host offers: {', '.join(offered) or 'nothing'}"
            return {"jsonrpc": "2.0", "id": 0, "result": {"content": [{"type": "text", "text": text}], "isError": True}}
        return await client.request("tools/call", {"name": matches[0], "arguments": arguments}, timeout)
