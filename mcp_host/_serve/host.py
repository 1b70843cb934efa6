"""``harnessgym host``: serve every active server's tools over one MCP endpoint, for as long as needed.

The host speaks MCP on stdio (newline-delimited JSON; Content-Length if the client uses it) and, so that
``harnessgym mcp call`` can reach the same running servers, on a unix socket derived from the workspace
(:func:`mcp_host._paths.socket_path`). It serves the active set (:mod:`mcp_host._serve.active`) and follows changes
to it live. With ``stdio=False`` it is a daemon that exits after ``idle_timeout`` seconds without clients.

On exit (stdin closed, SIGTERM, SIGINT, idle) every server is stopped with its whole process tree, and the
telemetry queue is flushed.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from pathlib import Path

import anyio
import anyio.abc
from pydantic import BaseModel, ConfigDict

from mcp_host._paths import active_path, calls_path, logs_dir, private_dir, socket_path
from mcp_host._serve.active import file_identity, read_active_servers
from mcp_host._serve.router import Router
from mcp_host._serve.session import Session
from mcp_host._serve.telemetry import RunTag, TelemetryWriter
from mcp_host._supervise import procs
from mcp_host._supervise.health import HealthPolicy
from mcp_host._wire.fdio import claim_stdio
from mcp_host._wire.framing import DEFAULT_MAX_MESSAGE_BYTES

__all__ = ["HostOptions", "run_host"]

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Tools built in earlier harnessgym iterations, qualified by a smoke check and a self-test. "
    "Each tool is named <server>__<tool>."
)


class HostOptions(BaseModel):
    """How to run the host."""

    model_config = ConfigDict(frozen=True)

    workspace: Path
    """The workspace whose active servers are served."""
    tag: RunTag = RunTag()
    """Run, iteration and phase recorded with every call."""
    stdio: bool = True
    """Serve a client on stdin/stdout; the host exits when stdin closes."""
    listen: bool = True
    """Also listen on the workspace's unix socket (for ``harnessgym mcp call``)."""
    idle_timeout: float | None = None
    """Without stdio: exit after this many seconds with no client connected."""
    poll_interval: float = 0.25
    """Seconds between checks of the active-set file."""
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    """Largest message accepted from a client or a server."""
    health: HealthPolicy = HealthPolicy()
    """When servers are pinged to find wedged ones, and how long a ping may take."""


async def run_host(options: HostOptions) -> None:
    """Run the host until stdin closes (or, without stdio, until idle), then stop everything."""
    workspace = options.workspace.resolve()
    telemetry = TelemetryWriter(calls_path(workspace))
    async with anyio.create_task_group() as outer:
        await outer.start(telemetry.run)
        router: Router | None = None
        try:
            async with anyio.create_task_group() as tg:
                router = Router(
                    workspace=workspace,
                    task_group=tg,
                    telemetry=telemetry,
                    log_dir=logs_dir(workspace),
                    instructions=INSTRUCTIONS,
                    max_message_bytes=options.max_message_bytes,
                    health=options.health,
                )
                tg.start_soon(router.tick)
                tg.start_soon(router.watch_health)
                tg.start_soon(procs.cancel_on_signal, tg.cancel_scope)
                tg.start_soon(_watch_active, router, workspace, options.poll_interval)
                sock_path: Path | None = None
                if options.listen:
                    sock_path = await _listen(tg, router, workspace, options.tag)
                try:
                    if options.stdio:
                        stream = claim_stdio()
                        try:
                            await router.serve(Session(stream, options.tag, "stdio"))
                        finally:
                            await stream.aclose()
                    else:
                        await _wait_idle(router, options.idle_timeout)
                finally:
                    telemetry.flush()
                    if sock_path is not None:
                        with contextlib.suppress(OSError):
                            sock_path.unlink()
                    await router.stop_all()
                    tg.cancel_scope.cancel()
        finally:
            if router is not None:
                await router.stop_all()
            telemetry.close()


async def _watch_active(router: Router, workspace: Path, interval: float) -> None:
    path = active_path(workspace)
    seen: tuple[int, int, int] | bool | None = False
    while True:
        identity = file_identity(path)
        if identity != seen:
            seen = identity
            specs, problem = read_active_servers(workspace)
            if problem:
                log.warning("%s; keeping the servers already running", problem)
                router.ready.set()
            else:
                await router.apply(specs)
        await anyio.sleep(interval)


async def _wait_idle(router: Router, idle_timeout: float | None) -> None:
    while True:
        await anyio.sleep(0.2)
        idle = time.monotonic() - router.last_activity
        if idle_timeout is not None and not router.sessions and idle >= idle_timeout:
            return


async def _listen(tg: anyio.abc.TaskGroup, router: Router, workspace: Path, tag: RunTag) -> Path | None:
    path = socket_path(workspace)
    try:
        private_dir(path.parent)
    except OSError as exc:
        log.warning("not listening on %s: %s", path, exc)
        return None
    if path.exists():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            with contextlib.suppress(OSError):
                path.unlink()
        else:
            log.warning("another host already serves %s at %s; not listening", workspace, path)
            return None
        finally:
            probe.close()
    try:
        listener = await anyio.create_unix_listener(path)
    except OSError as exc:
        log.warning("cannot listen on %s: %s", path, exc)
        return None

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await router.serve(Session(stream, tag, "socket", write_through=True))

    async def serve() -> None:
        async with listener:
            await listener.serve(handle)

    tg.start_soon(serve)
    return path
