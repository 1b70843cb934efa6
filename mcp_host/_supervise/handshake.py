"""The opening of a server: ``initialize`` with framing detection, ``notifications/initialized``, ``tools/list``
(and the prompt and resource lists of a server that announces them, :mod:`mcp_host._serve.surfaces`).

The reader accepts either framing from a server at any time; what we *send* must be chosen before the server
has said anything, so ``auto`` probes. It sends ``initialize`` in the likelier framing (the one learned at the
last start or from the cached verdict, else ``content-length`` when the server's source file mentions
``Content-Length``, else newline JSON), waits :data:`PROBE_WINDOW` seconds, then also sends ``initialize``
in the other framing and takes whichever is answered first, within the startup timeout. The framing of the
answer decides what we send from then on.

The two probes must not corrupt each other: a newline server that received a Content-Length probe holds
its body as a partial line, so a newline probe that follows starts with ``\\n`` (ending that line, so the
first probe is answered rather than glued to the second), and when newline wins after a Content-Length
probe was last, a bare ``\\n`` flushes it. Answers to the losing probe carry unknown ids and are dropped.
A Content-Length server reads the stray JSON line as a header line without a colon, which lenient parsers
skip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from mcp_host._errors import ServerError, ServerStartError
from mcp_host._serve.surfaces import ServerSurfaces, list_surfaces
from mcp_host._supervise.manifest import ServerSpec
from mcp_host._supervise.tooldefs import clean_tools
from mcp_host._version import __version__
from mcp_host._wire import jsonrpc
from mcp_host._wire.framing import WireFraming, encode
from mcp_host._wire.waiters import Future

if TYPE_CHECKING:
    from mcp_host._supervise.downstream import Downstream

__all__ = ["CLIENT_INFO", "PROBE_WINDOW", "PROTOCOL_VERSION", "handshake", "list_tools", "probe_order"]

PROBE_WINDOW = 1.5
"""Seconds to wait for an answer in one framing before also trying the other (Python SDK cold start ~1 s)."""
PROTOCOL_VERSION = jsonrpc.LATEST_VERSION
CLIENT_INFO = {"name": "harnessgym-host", "version": __version__}
_SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".sh", ".rb")


def probe_order(spec: ServerSpec, known: WireFraming | None) -> list[WireFraming]:
    """The framings to try, in order: the manifest's only; else the known or sniffed one, then the other."""
    if spec.framing != "auto":
        return [spec.framing]
    first = known or _sniff(spec)
    return [first, "newline" if first == "content-length" else "content-length"]


def _sniff(spec: ServerSpec) -> WireFraming:
    for arg in (spec.command, *spec.args):
        path = Path(arg) if Path(arg).is_absolute() else spec.cwd / arg
        try:  # is_file() too raises for an argument that is no file name (ENAMETOOLONG)
            if path.suffix in _SOURCE_SUFFIXES and path.is_file():
                with open(path, "rb") as fh:
                    if b"content-length" in fh.read(1 << 20).lower():
                        return "content-length"
        except OSError:
            continue
    return "newline"


def error_text(msg: dict[str, Any]) -> str:
    err = msg.get("error")
    if isinstance(err, dict):
        return str(err.get("message", err))[:500]
    return json.dumps(msg)[:300]


async def handshake(server: Downstream) -> None:
    """Initialize ``server`` (detecting its framing) and list its tools; raises ServerStartError."""
    answered = anyio.Event()
    futures: list[Future] = []
    sent: list[WireFraming] = []
    order = probe_order(server.spec, server.learned_framing)
    for i, framing in enumerate(order):
        fut = Future(lambda: server.rx_framing, answered)
        did = server.register(fut)
        futures.append(fut)
        params = {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}
        body = jsonrpc.dumps({"jsonrpc": "2.0", "id": did, "method": "initialize", "params": params})
        flush = b"\n" if sent and framing == "newline" else b""
        await server.write_raw(flush + encode(body, framing))
        sent.append(framing)
        if i < len(order) - 1:
            with anyio.move_on_after(PROBE_WINDOW):
                await answered.wait()
            if answered.is_set():
                break
    await answered.wait()
    winner = next(f for f in futures if f.event.is_set() and (f.msg is not None or f.error is not None))
    for fut in futures:
        server.forget(fut)
    if winner.error is not None:
        raise ServerStartError(server.name, server.message(winner.error))
    assert winner.msg is not None
    if "error" in winner.msg:
        raise ServerStartError(server.name, server.message(f"initialize failed: {error_text(winner.msg)}"))
    server.framing = server.learned_framing = winner.framing or sent[-1]
    if server.framing == "newline" and sent[-1] == "content-length":
        await server.write_raw(b"\n")
    await server.notify("notifications/initialized", None)
    result = winner.msg.get("result")
    capabilities = result.get("capabilities") if isinstance(result, dict) else None
    server.capabilities = capabilities if isinstance(capabilities, dict) else {}
    # All lists at once: each round trip would add to the start of a server that waits for CPU beside others.
    surfaces: list[ServerSurfaces] = []
    tools: list[list[dict[str, Any]] | ServerError] = []

    async def tool_list(scope: anyio.CancelScope) -> None:
        try:
            tools.append(await list_tools(server))
        except ServerError as exc:  # kept, and raised below unwrapped (a task group would wrap it)
            tools.append(exc)
            scope.cancel()

    # The prompt and resource lists must not use up the startup deadline (a list never answered would fail the
    # start, tools and all): they get what the deadline leaves minus a margin, and are left empty past it.
    left = anyio.current_effective_deadline() - anyio.current_time()
    within = min(left, server.spec.startup_timeout) - min(1.0, left / 4) if left > 0 else 0.0

    async def other_lists() -> None:
        surfaces.append(await list_surfaces(server, server.capabilities, within))

    async with anyio.create_task_group() as tg:
        tg.start_soon(tool_list, tg.cancel_scope)
        tg.start_soon(other_lists)
    if isinstance(tools[0], ServerError):
        raise tools[0]
    server.tools, server.surfaces = tools[0], surfaces[0]


async def list_tools(server: Downstream) -> list[dict[str, Any]]:
    """Every tool the server offers (following pagination), filtered by the manifest's ``enabled_tools``."""
    tools: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(50):
        params = {"cursor": cursor} if cursor else None
        msg = await server.request("tools/list", params, server.spec.startup_timeout)
        page = msg.get("result")
        if not isinstance(page, dict) or not isinstance(page.get("tools"), list):
            raise ServerStartError(server.name, server.message(f"tools/list gave no tool list: {error_text(msg)}"))
        tools.extend(page["tools"])
        cursor = page.get("nextCursor")
        if not isinstance(cursor, str) or not cursor:
            break
    tools, notes = clean_tools(tools)
    server.tool_notes = notes
    for note in notes:
        server.stderr.note(note)
    if server.spec.enabled_tools is not None:
        allowed = set(server.spec.enabled_tools)
        tools = [t for t in tools if t["name"] in allowed]
    return tools
