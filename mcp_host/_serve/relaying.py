"""The half of the router that relays: ``tools/call``, ``prompts/get`` and ``resources/read`` go to the
server that owns them under a fresh id, and their answers come back under the client's (see
:mod:`mcp_host._serve.router`). A mixin: :class:`~mcp_host._serve.router.Router` holds the state it uses."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import anyio
import anyio.abc

from mcp_host._errors import ServerError, ServerTimeoutError
from mcp_host._serve.relay import RelayedCall
from mcp_host._serve.session import Session
from mcp_host._serve.surfaces import Surfaces
from mcp_host._serve.telemetry import CallStatus, TelemetryWriter
from mcp_host._supervise.downstream import Downstream
from mcp_host._wire import PAIR_META, jsonrpc

__all__ = ["RESOURCE_NOT_FOUND", "Relaying", "leading_id"]

log = logging.getLogger(__name__)

RESOURCE_NOT_FOUND = -32002


class Relaying:
    """Relayed requests; the attributes below are the :class:`~mcp_host._serve.router.Router`'s."""

    servers: dict[str, Downstream]
    names: dict[str, tuple[str, str]]
    pair_names: dict[tuple[str, str], str]
    surfaces: Surfaces
    telemetry: TelemetryWriter | None
    progress: dict[int, tuple[Session, Any]]
    ready: anyio.Event
    _tg: anyio.abc.TaskGroup
    _tokens: int

    async def _wait_ready(self) -> None:
        raise NotImplementedError

    async def _forward(self, session: Session, rid: Any, method: str, params: dict[str, Any]) -> None:
        """``prompts/get`` or ``resources/read``, to the server that offers it (see :mod:`mcp_host._serve.surfaces`)."""
        try:
            await self._forward_unguarded(session, rid, method, params)
        except Exception:  # the per-request guard: it runs in the router's task group, which must not end
            log.exception("client %s: %s could not be relayed", session.label, method)
            await session.send(jsonrpc.error(rid, jsonrpc.INTERNAL_ERROR, f"{method} could not be relayed"))

    async def _forward_unguarded(self, session: Session, rid: Any, method: str, params: dict[str, Any]) -> None:
        await self._wait_ready()
        out = dict(params)
        if method == "prompts/get":
            name = params.get("name")
            target = self.surfaces.prompt_names.get(name) if isinstance(name, str) else None
            server = self.servers.get(target[0]) if target else None
            if target is None or server is None:
                await session.send(jsonrpc.error(rid, jsonrpc.INVALID_PARAMS, f"Unknown prompt: {name}"))
                return
            out["name"] = target[1]
        else:
            uri = params.get("uri")
            owner = self.surfaces.owner_of(uri) if isinstance(uri, str) else None
            server = self.servers.get(owner) if owner else None
            if server is None:
                await session.send(jsonrpc.error(rid, RESOURCE_NOT_FOUND, "Resource not found", {"uri": uri}))
                return
        started, created = time.monotonic(), time.time()
        problem: str | None
        status: CallStatus
        try:
            await server.ensure_running()
            answer = await server.request(method, out, server.spec.tool_timeout)
        except ServerError as exc:
            reply, problem = jsonrpc.error(rid, jsonrpc.INTERNAL_ERROR, str(exc)), str(exc)
            status = "timeout" if isinstance(exc, ServerTimeoutError) else "error"
        else:
            reply, status, problem = _relayed(rid, server.name, answer)
        await session.send(reply)
        if self.telemetry is not None:
            # One line like a tools/call's; ``tool_name`` holds the prompt's own name or the resource's URI.
            arguments = params.get("arguments")
            keys = sorted(str(k) for k in arguments) if isinstance(arguments, dict) else []
            subject = out.get("name") if method == "prompts/get" else out.get("uri")
            self.telemetry.record_call(
                session.tag, created_at=created, started=started, server=server.name, request_id=rid, method=method,
                tool_name=str(subject)[:300], status=status, message=problem, argument_keys=keys,
                argument_bytes=len(jsonrpc.dumps(arguments)) if isinstance(arguments, dict) else 0,
                result_bytes=len(reply), qualified_name=params.get("name") if method == "prompts/get" else None,
                write_through=session.write_through,
            )  # fmt: skip

    def _call_now(self, session: Session, body: bytes) -> bool:
        """Relay a client's ``tools/call`` right away, from its pipe's reader callback, when nothing needs an
        await: a known tool of a running server with room in its pipe, a fresh id, no progress token. False
        leaves it, untouched, to :meth:`handle` (which answers errors and starts servers)."""
        try:
            msg = json.loads(body)
        except (ValueError, RecursionError):
            return False
        if not isinstance(msg, dict) or msg.get("method") != "tools/call":
            return False
        rid, params = msg.get("id"), msg.get("params")
        if not isinstance(rid, str | int) or isinstance(rid, bool) or not isinstance(params, dict):
            return False
        arguments, meta = params.get("arguments"), params.get("_meta")
        name, target = self._tool_of(params)
        server = self.servers.get(target[0]) if target else None
        if name is None or target is None or server is None or rid in session.calls:
            return False
        if (arguments is not None and not isinstance(arguments, dict)) or (
            isinstance(meta, dict) and "progressToken" in meta
        ):
            return False
        call = RelayedCall(session, rid, server, target[1], name, arguments, telemetry=self.telemetry,  # type: ignore[arg-type]
                           progress=self.progress)  # fmt: skip
        out = self._outgoing(params, target[1])
        if not server.send_now({"jsonrpc": "2.0", "id": 0, "method": "tools/call", "params": out}, call):
            return False
        session.calls[rid] = call
        return True

    async def _call_when_ready(self, session: Session, rid: Any, params: dict[str, Any]) -> None:
        await self._wait_ready()
        await self._call(session, rid, params)

    def _tool_of(self, params: dict[str, Any]) -> tuple[str | None, tuple[str, str] | None]:
        """The qualified name and (server, tool) a ``tools/call`` asks for: by its name, or by the pair it
        names under :data:`PAIR_META` (which then decides, whatever the name says)."""
        meta = params.get("_meta")
        if isinstance(meta, dict) and PAIR_META in meta:
            pair = meta[PAIR_META]
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                return None, None
            name = self.pair_names.get((pair[0], pair[1]))
            return name, (pair[0], pair[1]) if name is not None else None
        name = params.get("name")
        return (name, self.names.get(name)) if isinstance(name, str) else (None, None)

    @staticmethod
    def _outgoing(params: dict[str, Any], tool: str) -> dict[str, Any]:
        """The params the owning server gets: its own tool name, and no pair of ours in ``_meta``."""
        out = dict(params)
        out["name"] = tool
        meta = params.get("_meta")
        if isinstance(meta, dict) and PAIR_META in meta:
            rest = {k: v for k, v in meta.items() if k != PAIR_META}
            if rest:
                out["_meta"] = rest
            else:
                del out["_meta"]
        return out

    async def _call(self, session: Session, rid: Any, params: dict[str, Any]) -> None:
        name, target = self._tool_of(params)
        server = self.servers.get(target[0]) if target else None
        if (target is None or server is None) and not self.ready.is_set():
            self._tg.start_soon(self._call_when_ready, session, rid, params)
            return
        meta = params.get("_meta")
        if (target is None or server is None) and isinstance(meta, dict) and PAIR_META in meta:
            message = f"no tool of this host is {meta[PAIR_META]!r} (server, tool)"[:500]
            await session.send(jsonrpc.error(rid, jsonrpc.INVALID_PARAMS, message, {PAIR_META: "unknown"}))
            return
        name = name if name is not None else params.get("name")
        if target is None or server is None:
            text = f"Unknown tool: {name}"
            await session.send(jsonrpc.result(rid, {"content": [{"type": "text", "text": text}], "isError": True}))
            return
        if rid in session.calls:  # two answers with one id could not be told apart
            message = f"request id {rid!r} is already in use by a call in flight"
            await session.send(jsonrpc.error(rid, jsonrpc.INVALID_REQUEST, message))
            return
        arguments = params.get("arguments")
        if arguments is not None and not isinstance(arguments, dict):
            message = f"tools/call arguments must be an object, not {type(arguments).__name__}"
            await session.send(jsonrpc.error(rid, jsonrpc.INVALID_PARAMS, message))
            return
        call = RelayedCall(
            session,
            rid,
            server,
            target[1],
            name,  # type: ignore[arg-type]
            arguments,  # type: ignore[arg-type]
            telemetry=self.telemetry,
            progress=self.progress,
        )
        session.calls[rid] = call
        out = self._outgoing(params, target[1])
        if isinstance(meta, dict) and "progressToken" in meta:
            self._tokens += 1
            call.token = self._tokens
            self.progress[call.token] = (session, meta["progressToken"])
            out["_meta"] = {**out["_meta"], "progressToken": call.token}
        msg = {"jsonrpc": "2.0", "id": 0, "method": "tools/call", "params": out}
        # A small request to a running server goes out inline (an atomic non-blocking write). Anything else is
        # never awaited here: a server that stops reading its stdin blocks the write, and this session's calls
        # to every other server must go on meanwhile.
        if not server.send_now(msg, call):
            self._tg.start_soon(self._start_and_send, server, msg, call)

    async def _start_and_send(self, server: Downstream, msg: dict[str, Any], call: RelayedCall) -> None:
        if server.state != "running":
            try:
                await server.ensure_running()
            except ServerError as exc:
                await call.fail(str(exc), "error")
                return
        if not call.done:
            await server.send(msg, call)


def _relayed(rid: Any, server: str, answer: dict[str, Any]) -> tuple[bytes, CallStatus, str | None]:
    """A server's answer to a relayed request, under the client's id: (reply, telemetry status, problem)."""
    err = answer.get("error")
    if isinstance(err, dict):
        raw_code = err.get("code")
        code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else jsonrpc.INTERNAL_ERROR
        message = str(err.get("message", "error"))
        return jsonrpc.error(rid, code, message, err.get("data")), "error", message
    if isinstance(answer.get("result"), dict):
        return jsonrpc.result(rid, answer["result"]), "completed", None
    message = f"server {server!r} gave no result"
    return jsonrpc.error(rid, jsonrpc.INTERNAL_ERROR, message), "error", message


_ID = re.compile(rb'"id"[ \t]*:[ \t]*(-?\d{1,18}|"[^"\\]{0,100}")[ \t]*[,}]')


def leading_id(head: bytes) -> str | int | None:
    """The id of a request too large to read, when it shows in its first bytes at the top level (as the SDK
    writes it, right after ``jsonrpc``), so the client gets its error instead of waiting for its timeout."""
    m = _ID.search(head)
    if m is None or head[: m.start()].count(b"{") != 1:
        return None
    value: str | int = json.loads(m.group(1))
    return value
