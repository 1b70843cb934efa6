"""The fast path of ``harnessgym mcp call``: one tool call to a host that is already running, from the standard
library alone (a blocking unix socket, ``json``), so a call from an agent's shell costs an interpreter start and
a round trip, not the imports of the SDK, pydantic and anyio.

Only the common case is here: the host is listening. Anything else (no host yet, so one must be started; an
answer that is not JSON-RPC; a tool that is not offered) returns None, and the caller takes the full path
(:mod:`mcp_host._serve.callclient`), which starts a daemon, waits, and explains. It must never import anything
outside the standard library.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from mcp_host._paths import private_dir, socket_path
from mcp_host._wire.jsonrpc import LATEST_VERSION

__all__ = ["RUN_TAG_VARS", "quick_call", "run_tag_from_env"]

RUN_TAG_VARS = {"run_id": "HARNESSGYM_RUN_ID", "iteration": "HARNESSGYM_ITERATION", "phase": "HARNESSGYM_PHASE"}
"""The environment a phase gives the agent, which every call it makes carries to the host's telemetry."""
_MAX_REPLY = 256 * 1024 * 1024


def run_tag_from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """``{run_id, iteration, phase}`` of the calling phase (missing ones left out)."""
    env = os.environ if environ is None else environ
    tag: dict[str, Any] = {}
    if env.get(RUN_TAG_VARS["run_id"]):
        tag["run_id"] = env[RUN_TAG_VARS["run_id"]]
    iteration = env.get(RUN_TAG_VARS["iteration"], "").strip()
    if iteration.lstrip("-").isdigit():
        tag["iteration"] = int(iteration)
    if env.get(RUN_TAG_VARS["phase"]):
        tag["phase"] = env[RUN_TAG_VARS["phase"]]
    return tag


class _Conn:
    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.buffer = b""
        self.next_id = 0

    def send(self, message: dict[str, Any]) -> None:
        self.sock.sendall(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def request(self, method: str, params: dict[str, Any] | None) -> dict[str, Any] | None:
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        while True:
            line = self._line()
            if line is None:
                return None
            try:
                reply = json.loads(line)
            except ValueError:
                return None
            if isinstance(reply, dict) and reply.get("id") == self.next_id and "method" not in reply:
                return reply

    def _line(self) -> bytes | None:
        while b"\n" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or len(self.buffer) > _MAX_REPLY:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                return None
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line


def _owner(tool: dict[str, Any]) -> tuple[str, str]:
    meta = tool.get("_meta") or {}
    if isinstance(meta, dict) and "harnessgym/server" in meta:
        return str(meta["harnessgym/server"]), str(meta.get("harnessgym/tool", ""))
    server, _, name = str(tool.get("name", "")).partition("__")
    return server, name


def quick_call(
    workspace: Path, server: str, tool: str, arguments: dict[str, Any], *, timeout: float = 120.0
) -> dict[str, Any] | None:
    """The JSON-RPC reply of ``tool`` of ``server`` from the workspace's running host; None when the fast path
    cannot answer (no host listening, a tool it does not offer, a reply it cannot read): take the full path."""
    path = socket_path(workspace)
    try:
        private_dir(path.parent)
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(min(timeout, 5.0))
        try:
            sock.connect(str(path))
        except OSError:
            return None
        conn = _Conn(sock, time.monotonic() + timeout)
        params = {
            "protocolVersion": LATEST_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "harnessgym-mcp-call", "version": "quick"},
            "_meta": {"harnessgym/run": run_tag_from_env()},
        }
        reply = conn.request("initialize", params)
        if reply is None or "error" in reply:
            return None
        conn.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        listing = conn.request("tools/list", None)
        tools = (listing or {}).get("result", {}).get("tools", [])
        names = [t["name"] for t in tools if isinstance(t, dict) and _owner(t) == (server, tool)]
        if not names:
            return None
        return conn.request("tools/call", {"name": names[0], "arguments": arguments})
    finally:
        sock.close()
