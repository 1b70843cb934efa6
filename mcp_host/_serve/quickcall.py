"""The fast path of ``harnessgym mcp call``: one tool call to a host that is already running, from the standard
library alone (a blocking unix socket, ``json``), so a call from an agent's shell costs an interpreter start and
a round trip, not the imports of the SDK, pydantic and anyio.

Only the common case is here: the host is listening. Anything else (no host yet, so one must be started; an
answer that is not JSON-RPC; a tool that is not offered) returns None, and the caller takes the full path
(:mod:`mcp_host._serve.callclient`), which starts a daemon, waits, and explains. It must never import anything
outside the standard library.
"""

from __future__ import annotations

import _socket as socket  # not `socket`: its 5 ms of imports; the bare socket does all this needs
import json
import os
import time

from mcp_host._paths import private_dir, socket_file
from mcp_host._wire import LATEST_VERSION, PAIR_META

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: `mcp call` must not pay for importing typing
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

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
        self.early: dict[int, dict[str, Any]] = {}
        """Replies that came before the one waited for (pipelined requests may be answered out of order)."""

    def send(self, *messages: dict[str, Any]) -> None:
        """Send ``messages`` in one write (pipelined: the host answers them in order)."""
        self.sock.sendall(b"".join(json.dumps(m, separators=(",", ":")).encode() + b"\n" for m in messages))

    def ask(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        """A request under the next id, to :meth:`send`; :meth:`answer` waits for its reply."""
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        return message

    def answer(self, rid: int) -> dict[str, Any] | None:
        """The reply to request ``rid`` (notifications are skipped); None when none comes."""
        if rid in self.early:
            return self.early.pop(rid)
        while True:
            line = self._line()
            if line is None:
                return None
            try:
                reply = json.loads(line)
            except ValueError:
                return None
            if isinstance(reply, dict) and "method" not in reply:
                if reply.get("id") == rid:
                    return reply
                if isinstance(reply.get("id"), int):
                    self.early[reply["id"]] = reply

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


def quick_call(
    workspace: Path | str, server: str, tool: str, arguments: dict[str, Any], *, timeout: float = 120.0
) -> dict[str, Any] | None:
    """The JSON-RPC reply of ``tool`` of ``server`` from the workspace's running host; None when the fast path
    cannot answer (no host listening, a tool it does not offer, a reply it cannot read): take the full path."""
    path = socket_file(workspace)
    try:
        private_dir(os.path.dirname(path))
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(min(timeout, 5.0))
        try:
            sock.connect(path)
        except OSError:
            return None
        conn = _Conn(sock, time.monotonic() + timeout)
        params = {
            "protocolVersion": LATEST_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "harnessgym-mcp-call", "version": "quick"},
            "_meta": {"harnessgym/run": run_tag_from_env()},
        }
        # One round trip for the handshake and the call: the host answers in order (the initialize answer, which
        # sets the session's run tag, comes first), and the call names its tool by (server, tool), so no list
        # is needed to find the host's name for it. A pair the host does not know is an error, never a call.
        hello = conn.ask("initialize", params)
        call = conn.ask("tools/call", {"name": f"{server}__{tool}", "arguments": arguments,
                                       "_meta": {PAIR_META: [server, tool]}})  # fmt: skip
        conn.send(hello, {"jsonrpc": "2.0", "method": "notifications/initialized"}, call)
        reply = conn.answer(call["id"])
        error = reply.get("error") if reply is not None else None
        data = error.get("data") if isinstance(error, dict) else None
        if reply is None or (isinstance(data, dict) and data.get(PAIR_META) == "unknown"):
            return None  # the host serves no such tool (its list has none either): the full path says so
        return reply
    finally:
        sock.close()
