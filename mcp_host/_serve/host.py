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
import fcntl
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
from pydantic import BaseModel, ConfigDict

from mcp_host._paths import calls_path, logs_dir, private_dir, socket_path
from mcp_host._serve.active import needs_qualification, read_active_servers
from mcp_host._serve.router import Router
from mcp_host._serve.session import Session
from mcp_host._serve.telemetry import RunTag, TelemetryWriter
from mcp_host._supervise import procs
from mcp_host._supervise.health import HealthPolicy
from mcp_host._supervise.manifest import ServerSpec
from mcp_host._supervise.qualify import qualified_tools
from mcp_host._supervise.trust import StateDirError, VerdictStore
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
    poll_interval: float = 0.05
    """Seconds between checks of the active-set file (one ``stat``): a host started ahead of an activation
    serves it this soon after."""
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    """Largest message accepted from a client or a server."""
    health: HealthPolicy = HealthPolicy()
    """When servers are pinged to find wedged ones, and how long a ping may take."""
    pass_env: tuple[str, ...] = ()
    """Variables of the host's environment passed on to every server (the user's ``--mcp-pass-env``)."""


async def run_host(options: HostOptions) -> None:
    """Run the host until stdin closes (or, without stdio, until idle), then stop everything.

    A daemon (no stdio) first takes the workspace's daemon lock; when another daemon holds it, this one exits
    at once: however many ``mcp call`` clients start one at the same moment, one serves the workspace."""
    workspace = options.workspace.resolve()
    lock: int | None = None
    if not options.stdio:
        lock = _daemon_lock(workspace)
        if lock is None:
            log.info("another host daemon serves %s; exiting", workspace)
            return
    try:
        await _run_host(options, workspace)
    finally:
        if lock is not None:
            os.close(lock)


def _daemon_lock(workspace: Path) -> int | None:
    """Hold ``<socket>.lock`` exclusively for the daemon's life; None when another process holds it."""
    path = socket_path(workspace).with_suffix(".lock")
    try:
        private_dir(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        log.warning("cannot take the daemon lock %s (%s); serving without it", path, exc)
        return os.open(os.devnull, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


async def _run_host(options: HostOptions, workspace: Path) -> None:
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
                    gate=lambda spec: needs_qualification(spec, workspace),
                    known_tools=_known_tools(workspace),
                    pass_env=frozenset(options.pass_env),
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
    try:
        store: VerdictStore | None = VerdictStore(workspace)
    except StateDirError as exc:
        log.warning("%s; serving no servers", exc)
        store = None
    seen: tuple[int, int, int] | bool | None = False
    while True:
        identity = store.active_identity() if store is not None else None
        if identity != seen:
            seen = identity
            specs, problem = read_active_servers(workspace) if store is not None else ([], None)
            if problem:
                log.warning("%s; keeping the servers already running", problem)
                router.ready.set()
            else:
                await router.apply(_served(specs, workspace))
        await anyio.sleep(interval)


def _known_tools(workspace: Path) -> Callable[[ServerSpec], list[dict[str, Any]] | None]:
    return lambda spec: qualified_tools(workspace, spec)


def _served(specs: list[ServerSpec], workspace: Path) -> list[ServerSpec]:
    """The active servers whose content is still what was qualified; the others are left out, said in the log."""
    kept = []
    for spec in specs:
        problem = needs_qualification(spec, workspace)
        if problem is None:
            kept.append(spec)
        else:
            log.warning("%s", problem)
    return kept


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
