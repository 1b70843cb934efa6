"""Streamable HTTP for the control server: a bearer-token gate in front of the SDK's ASGI app, on uvicorn.

The SDK does the protocol and the DNS-rebinding check; this module adds only what it lacks for a plain
shared-secret deployment: a constant-time ``Authorization: Bearer`` check on every request, binding port 0
and reporting the bound URL. It must never accept a request without the token once a token is set.
"""

from __future__ import annotations

import hmac
import socket
import sys
from pathlib import Path
from typing import Any

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from harnessgym.serve._settings import LOOPBACK_HOSTS, ServeSettings
from mcp_host import write_atomic

__all__ = ["BearerAuth", "serve_http", "transport_security"]

_GRACEFUL_SHUTDOWN_SECONDS = 5


class BearerAuth:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>``; otherwise 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode("utf-8")

    def _authorized(self, scope: Scope) -> bool:
        scheme, _, value = Headers(scope=scope).get("authorization", "").partition(" ")
        # compare_digest runs even for a wrong scheme so the timing does not say which part was wrong.
        same = hmac.compare_digest(value.strip().encode("utf-8"), self._token)
        return same and scheme.lower() == "bearer"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            response = JSONResponse(
                {"error": "unauthorized", "message": "send the server's token as 'Authorization: Bearer <token>'"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="harnessgym"'},
            )
            await response(scope, receive, send)
        else:
            await send({"type": "websocket.close", "code": 1008})


def _host_literal(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def transport_security(settings: ServeSettings) -> TransportSecuritySettings:
    """DNS-rebinding protection, always on: the bind address, the loopback names and any extra hosts."""
    names = {_host_literal(h) for h in (*LOOPBACK_HOSTS, settings.host) if h not in ("0.0.0.0", "::")}
    hosts = sorted(f"{name}:*" for name in names) + list(settings.allowed_hosts)
    origins = sorted(f"http://{name}:*" for name in names)
    for extra in settings.allowed_hosts:
        origins += [f"http://{extra}", f"https://{extra}"]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _announce(url: str, url_file: Path | None) -> None:
    print(f"harnessgym serve: listening on {url}", file=sys.stderr, flush=True)
    if url_file is None:
        return
    write_atomic(url_file, url + "\n")


async def serve_http(server: MCPServer[Any], settings: ServeSettings) -> None:
    """Serve ``server`` over streamable HTTP at ``/mcp`` until the process is told to stop."""
    import uvicorn

    app: ASGIApp = server.streamable_http_app(host=settings.host, transport_security=transport_security(settings))
    if settings.token:
        app = BearerAuth(app, settings.token)
    sock = _bind(settings.host, settings.port)
    try:
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
        )
        # Connections wait in the listen backlog until uvicorn accepts them, so announcing first is safe.
        _announce(f"http://{_host_literal(settings.host)}:{port}/mcp", settings.url_file)
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        sock.close()
