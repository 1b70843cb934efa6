"""The host's message router: many client sessions in, many supervised servers out, matched by id.

Each client message is parsed once (``json.loads``). The host answers ``initialize``, ``ping`` and
``tools/list`` itself (tools of every active server, as ``<server>__<tool>``, see :mod:`mcp_host._serve.names`; the
servers' prompts and resources are offered too, through :mod:`mcp_host._serve.surfaces`),
and forwards ``tools/call`` to the owning server under a fresh id, with the tool's own name. The response
comes back through :class:`mcp_host._serve.relay.RelayedCall`: its id is spliced back without re-encoding
large results, the client gets it, and one telemetry line is queued. Never in lockstep: any number of calls
are in flight.
On a client's pipe the hot path runs in the pipes' reader callbacks, with no task woken: a ``tools/call`` to a
running server goes out from the client pipe's (:meth:`Router._serve_now`), its small answer back from the
server pipe's (:meth:`mcp_host._supervise.reading.ServerReading._fast_feed`); anything else, in order, goes
the async way below.

* ``server/discover`` (the 2026-07-28 probe) gets "method not found", so SDK clients in auto mode fall back
  to ``initialize``.
* A call past its server's tool timeout gets an ``isError`` result saying so, the server gets
  ``notifications/cancelled``, and a late answer is dropped.
* A crash fails only that server's in-flight calls (``isError`` with the exit code and stderr tail); the
  next call restarts it with backoff. A server that is alive but stopped answering pings is killed and
  handled the same way (:mod:`mcp_host._supervise.health`); a busy one is left alone.
* ``notifications/cancelled`` from the client reaches the server under the remapped id; progress tokens are
  remapped both ways; server log messages go to every client; a server's ``tools/list_changed`` makes the
  host re-list it and tell every client.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

from mcp_host._errors import ServerError
from mcp_host._serve.names import build_catalog
from mcp_host._serve.relaying import Relaying, leading_id
from mcp_host._serve.session import Session
from mcp_host._serve.surfaces import Surfaces, list_surfaces
from mcp_host._serve.telemetry import RunTag, TelemetryWriter
from mcp_host._supervise.downstream import Downstream
from mcp_host._supervise.handshake import list_tools
from mcp_host._supervise.health import HealthPolicy, watch
from mcp_host._supervise.manifest import ServerSpec
from mcp_host._supervise.verdicts import recall_framing
from mcp_host._version import __version__
from mcp_host._wire import jsonrpc
from mcp_host._wire.fdio import FdStream
from mcp_host._wire.framing import DEFAULT_MAX_MESSAGE_BYTES, Decoder, Frame

__all__ = ["LATEST_VERSION", "SUPPORTED_VERSIONS", "TAG_METHOD", "Router"]

log = logging.getLogger(__name__)

SUPPORTED_VERSIONS, LATEST_VERSION = jsonrpc.SUPPORTED_VERSIONS, jsonrpc.LATEST_VERSION
_TICK = 0.05
_START_ATTEMPTS = 3
_LISTS = {
    "resources/list": ("resources", "resources"),
    "resources/templates/list": ("resourceTemplates", "templates"),
    "prompts/list": ("prompts", "prompts"),
}
"""Client list method → (result key, attribute of :class:`mcp_host._serve.surfaces.Surfaces`)."""
TAG_METHOD = "notifications/harnessgym/tag"
"""Sent by a relay before its client's first message: the run, iteration and phase of the session."""
TAG_PREFIX = b'{"jsonrpc": "2.0", "method": "' + TAG_METHOD.encode()
_LIST_CHANGED = {
    "notifications/tools/list_changed",
    "notifications/prompts/list_changed",
    "notifications/resources/list_changed",
}


class Router(Relaying):
    """Routes between client sessions and servers; see the module docstring."""

    def __init__(
        self,
        *,
        workspace: Path,
        task_group: anyio.abc.TaskGroup,
        telemetry: TelemetryWriter | None,
        log_dir: Path | None,
        prefix: bool = True,
        server_name: str = "harnessgym",
        instructions: str | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        health: HealthPolicy | None = None,
        gate: Callable[[ServerSpec], str | None] | None = None,
        known_tools: Callable[[ServerSpec], list[dict[str, Any]] | None] | None = None,
        pass_env: frozenset[str] = frozenset(),
    ) -> None:
        self.pass_env = pass_env
        self.workspace = workspace
        self.gate = gate
        self.known_tools = known_tools
        """The tool list qualification recorded for a spec's digest: offered before the server has started."""
        self.health = health or HealthPolicy()
        self.telemetry = telemetry
        self.log_dir = log_dir
        self.prefix = prefix
        self.server_name = server_name
        self.instructions = instructions
        self.max_message_bytes = max_message_bytes
        self.servers: dict[str, Downstream] = {}
        self.order: list[str] = []
        self.names: dict[str, tuple[str, str]] = {}
        self.pair_names: dict[tuple[str, str], str] = {}
        self.tool_list: list[dict[str, Any]] = []
        self.surfaces = Surfaces(prefix=prefix)
        self.sessions: set[Session] = set()
        self.progress: dict[int, tuple[Session, Any]] = {}
        self.ready = anyio.Event()
        self.last_activity = time.monotonic()
        self._tg = task_group
        self._tokens = 0
        self._list_digest = ""
        self._surface_digests = {"prompts": "", "resources": ""}
        self._relisting: dict[str, bool] = {}
        """Servers being re-listed, each with whether another ``list_changed`` came in meanwhile."""

    # -- servers -------------------------------------------------------------------------------------

    async def apply(self, specs: Sequence[ServerSpec]) -> None:
        """Make the served set equal ``specs``: start new ones (concurrently), restart changed, stop removed."""
        wanted = {s.name: s for s in specs}
        stale = [d for name, d in self.servers.items() if wanted.get(name) != d.spec]
        for server in stale:
            del self.servers[server.name]
        self.order = [s.name for s in specs]
        starting: list[Downstream] = []
        for spec in specs:
            if spec.name not in self.servers:
                self.servers[spec.name] = Downstream(
                    spec,
                    workspace=self.workspace,
                    task_group=self._tg,
                    listener=self,
                    log_dir=self.log_dir,
                    max_message_bytes=self.max_message_bytes,
                    framing_hint=recall_framing(self.workspace, spec.digest),
                    gate=self.gate,
                    pass_env=self.pass_env,
                )
                starting.append(self.servers[spec.name])
        # A server whose qualified tool list is known is listed from it at once and started in the background
        # (its first call waits for the start); only the others hold tools/list until they answered.
        waited: list[Downstream] = []
        for server in starting:
            known = self.known_tools(server.spec) if self.known_tools is not None else None
            if known is None:
                waited.append(server)
            else:
                server.tools = known
                self._tg.start_soon(self._start_one, server)
        async with anyio.create_task_group() as tg:
            for server in stale:
                tg.start_soon(self._stop_one, server)
            for server in waited:
                tg.start_soon(self._start_one, server)
        self.rebuild_tools()
        self.ready.set()

    async def _stop_one(self, server: Downstream) -> None:
        await server.stop()
        server.stderr.close()

    async def _start_one(self, server: Downstream, attempts: int = _START_ATTEMPTS) -> None:
        """Start a server; a qualified server that fails here (a slow machine, a transient error) gets a few
        more tries in the background, with the restart backoff, before its tools are left out."""
        if self.servers.get(server.name) is not server:
            return  # removed from the active set meanwhile
        try:
            await server.ensure_running()
        except ServerError as exc:
            if server.stopping or self.servers.get(server.name) is not server:
                return  # stopped on purpose while it started (the host exiting, the active set changed)
            log.warning("%s%s", exc, "; retrying" if attempts > 1 else "")
            if attempts > 1:
                self._tg.start_soon(self._start_one, server, attempts - 1)
            else:
                server.tools = []  # the qualified list it was offered from: no longer true of a server that won't start
        except Exception:  # the per-server guard: one broken server never takes the host down
            log.exception("starting server %s failed unexpectedly", server.name)
        self.rebuild_tools()

    async def stop_all(self) -> None:
        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as tg:
                for server in list(self.servers.values()):
                    tg.start_soon(self._stop_one, server)

    def rebuild_tools(self) -> None:
        """Recompute the qualified tool list (and the prompt and resource catalogs); tell every client what
        changed."""
        active = [s for name in self.order if (s := self.servers.get(name)) is not None]
        self.names, self.tool_list = build_catalog([(s.name, s.tools) for s in active], prefix=self.prefix)
        self.pair_names = {pair: name for name, pair in self.names.items()}
        digest = hashlib.sha256(jsonrpc.dumps(self.tool_list)).hexdigest()
        if digest != self._list_digest:
            changed = bool(self._list_digest)
            self._list_digest = digest
            if changed:
                self._notify_changed("tools")
        self.surfaces.rebuild([(s.name, s.surfaces) for s in active])
        views = {"prompts": self.surfaces.prompts, "resources": [self.surfaces.resources, self.surfaces.templates]}
        for what, view in views.items():
            digest = hashlib.sha256(jsonrpc.dumps(view)).hexdigest()
            if digest != self._surface_digests[what]:
                if self._surface_digests[what]:
                    self._notify_changed(what)
                self._surface_digests[what] = digest

    def _notify_changed(self, what: str) -> None:
        notice = {"jsonrpc": "2.0", "method": f"notifications/{what}/list_changed"}
        self._tg.start_soon(self._broadcast, jsonrpc.dumps(notice))

    async def _broadcast(self, body: bytes) -> None:
        for session in list(self.sessions):
            if session.initialized:
                await session.send(body)

    async def tick(self) -> None:
        """Expire calls past their deadline, forever."""
        while True:
            await anyio.sleep(_TICK)
            now = time.monotonic()
            for server in list(self.servers.values()):
                if server.pending:
                    await server.expire(now)

    async def watch_health(self) -> None:
        """Find wedged servers and kill them, forever (see :mod:`mcp_host._supervise.health`)."""
        await watch(self.servers.values, self.health, self._tg)

    # -- Listener ------------------------------------------------------------------------------------

    async def on_notification(self, server: Downstream, msg: dict[str, Any], raw: bytes) -> None:
        method = msg.get("method")
        params = msg.get("params")
        if method == "notifications/progress" and isinstance(params, dict):
            token = params.get("progressToken")
            target = self.progress.get(token) if isinstance(token, int) else None
            if target is not None:
                session, token = target
                await session.send(jsonrpc.dumps({**msg, "params": {**params, "progressToken": token}}))
        elif method == "notifications/message":
            await self._broadcast(raw)
        elif method in _LIST_CHANGED:
            self._schedule_relist(server)

    def on_exit(self, server: Downstream, message: str) -> None:
        log.warning("%s", message)

    def _schedule_relist(self, server: Downstream) -> None:
        """Re-list ``server`` once, however many ``list_changed`` it sends meanwhile: one relist runs per server,
        and notices that arrive while it runs make it go round once more (never two at once, so an older list
        can never overwrite a newer one)."""
        if server.name in self._relisting:
            self._relisting[server.name] = True
            return
        self._relisting[server.name] = False
        self._tg.start_soon(self._relist_until_quiet, server)

    async def _relist_until_quiet(self, server: Downstream) -> None:
        try:
            while True:
                await self._relist(server)
                if not self._relisting.get(server.name):
                    return
                self._relisting[server.name] = False
        except Exception:  # the per-server guard: a hostile server's lists never take the host down
            log.exception("re-listing %s failed unexpectedly", server.name)
        finally:
            self._relisting.pop(server.name, None)

    async def _relist(self, server: Downstream) -> None:
        try:
            server.tools = await list_tools(server)
        except ServerError as exc:
            log.warning("re-listing tools of %s failed: %s", server.name, exc)
            return
        server.surfaces = await list_surfaces(server, server.capabilities)
        self.rebuild_tools()

    # -- sessions ------------------------------------------------------------------------------------

    async def serve(self, session: Session) -> None:
        """Serve one client until it disconnects."""
        self.sessions.add(session)
        decoder = Decoder(self.max_message_bytes)
        if isinstance(session.transport, FdStream):  # a pipe: its reader callback sends calls at once
            session.transport.on_data = lambda data: self._serve_now(session, decoder, data)
        try:
            while True:
                try:
                    chunk = await session.transport.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    break
                self.last_activity = time.monotonic()
                session.handling = True
                try:
                    await self._serve_items(session, decoder, chunk)
                finally:
                    session.handling = False
        finally:
            if isinstance(session.transport, FdStream):
                session.transport.on_data = None
            self.sessions.discard(session)
            session.closed = True
            for call in list(session.calls.values()):
                call.cancelled("the client disconnected")
            self.last_activity = time.monotonic()

    def _serve_now(self, session: Session, decoder: Decoder, data: bytes) -> bool | None:
        """The client pipe's reader callback (see :attr:`mcp_host._wire.fdio.FdStream.on_data`): a ``tools/call``
        to a running server goes out here, with no task woken; anything else, in order, to :meth:`serve`."""
        if session.handling or session.backlog:
            return None
        self.last_activity = time.monotonic()
        items = decoder.feed(data)
        for i, item in enumerate(items):
            if not (isinstance(item, Frame) and session.framing is not None and self._call_now(session, item.body)):
                session.backlog = items[i:]
                return False
        return True

    async def _serve_items(self, session: Session, decoder: Decoder, chunk: bytes) -> None:
        backlog, session.backlog = session.backlog, []
        for item in [*backlog, *decoder.feed(chunk)]:
            if isinstance(item, Frame):
                if item.body.startswith(TAG_PREFIX) and self._tagged(session, item.body):
                    continue  # a relay's run tag, not the client's: it must not set the framing
                if session.framing is None:
                    session.framing = item.framing
                try:
                    await self.handle(session, item.body)
                except Exception:  # the per-session guard: one bad message never ends the host
                    log.exception("client %s: a message could not be handled", session.label)
                    await session.send(jsonrpc.error(None, jsonrpc.INTERNAL_ERROR, "internal error"))
            else:
                log.warning("client %s sent %s: %r", session.label, item.reason, item.head[:80])
                code = jsonrpc.INVALID_REQUEST if item.error is not None else jsonrpc.PARSE_ERROR
                rid = leading_id(item.head) if item.error is not None else None
                await session.send(jsonrpc.error(rid, code, f"skipped {item.reason}"))

    def _tagged(self, session: Session, body: bytes) -> bool:
        """Take the run tag a relay (:mod:`mcp_host._serve.connect`) sends before its client's first message."""
        try:
            params = json.loads(body).get("params")
            session.tag = RunTag.model_validate({**session.tag.model_dump(), **params})
        except (ValueError, AttributeError, TypeError):
            return False
        return True

    async def handle(self, session: Session, body: bytes) -> None:
        try:
            msg = json.loads(body)
        except (ValueError, RecursionError) as exc:
            await session.send(jsonrpc.error(None, jsonrpc.PARSE_ERROR, f"invalid JSON: {exc}"))
            return
        if not isinstance(msg, dict):
            await session.send(jsonrpc.error(None, jsonrpc.INVALID_REQUEST, "JSON-RPC batches are not supported"))
            return
        method = msg.get("method")
        rid = msg.get("id")
        if not isinstance(method, str):
            return  # a response to a request we never send, or noise
        if rid is not None and not isinstance(rid, str | int):
            await session.send(jsonrpc.error(None, jsonrpc.INVALID_REQUEST, "a request id must be a string or number"))
            return
        if rid is None:
            await self._notification(session, method, msg.get("params"))
            return
        raw_params = msg.get("params")
        params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
        if method == "tools/call":
            await self._call(session, rid, params)
        elif method == "tools/list":
            if self.ready.is_set():
                await session.send(jsonrpc.result(rid, {"tools": self.tool_list}))
            else:
                self._tg.start_soon(self._list_when_ready, session, rid, method)
        elif method == "initialize":
            await session.send(jsonrpc.result(rid, self._initialize(session, params)))
        elif method == "ping" or method == "logging/setLevel":
            await session.send(jsonrpc.result(rid, {}))
        elif method in _LISTS:
            if self.ready.is_set():
                await session.send(self._list_result(rid, method))
            else:
                self._tg.start_soon(self._list_when_ready, session, rid, method)
        elif method in ("prompts/get", "resources/read"):
            self._tg.start_soon(self._forward, session, rid, method, params)
        else:
            await session.send(jsonrpc.error(rid, jsonrpc.METHOD_NOT_FOUND, "Method not found", method))

    def _initialize(self, session: Session, params: dict[str, Any]) -> dict[str, Any]:
        asked = params.get("protocolVersion")
        session.protocol_version = asked if asked in SUPPORTED_VERSIONS else LATEST_VERSION
        meta = params.get("_meta")
        run = meta.get("harnessgym/run") if isinstance(meta, dict) else None
        if isinstance(run, dict):
            with contextlib.suppress(ValueError):
                session.tag = RunTag.model_validate({**session.tag.model_dump(), **run})
        out: dict[str, Any] = {
            "protocolVersion": session.protocol_version,
            "capabilities": {
                "tools": {"listChanged": True},
                "prompts": {"listChanged": True},
                "resources": {"listChanged": True},
                "logging": {},
            },
            "serverInfo": {"name": self.server_name, "version": __version__},
        }
        if self.instructions:
            out["instructions"] = self.instructions
        return out

    async def _notification(self, session: Session, method: str, params: Any) -> None:
        if method == "notifications/initialized":
            session.initialized = True
        elif method == "notifications/cancelled" and isinstance(params, dict):
            call = session.calls.get(params.get("requestId"))
            if call is not None:
                call.cancelled(str(params.get("reason") or "no reason given"))

    async def _wait_ready(self) -> None:
        limit = max((s.spec.startup_timeout for s in self.servers.values()), default=10.0) * 2 + 5
        with anyio.move_on_after(limit):
            await self.ready.wait()
        self.ready.set()

    async def _list_when_ready(self, session: Session, rid: Any, method: str) -> None:
        await self._wait_ready()
        await session.send(self._list_result(rid, method))

    def _list_result(self, rid: Any, method: str) -> bytes:
        if method == "tools/list":
            return jsonrpc.result(rid, {"tools": self.tool_list})
        key, attr = _LISTS[method]
        return jsonrpc.result(rid, {key: getattr(self.surfaces, attr)})
