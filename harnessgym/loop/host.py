"""The run's host: started before the first agent phase that gets MCP servers, kept for the whole run.

Every session of the run connects to it through :mod:`mcp_host._serve.connect` (a standard-library relay the
CLI starts in a few milliseconds), so ``initialize`` and ``tools/list`` are answered from memory, from the
tool lists qualification recorded, while the servers themselves have been starting since before the
session. The host follows the active set live: a new activation restarts only the servers whose content
changed. It runs with the host's environment allow-list (its servers can read its ``/proc/<pid>/environ``),
isolated from the workspace's import path (``-I``), and carries the run's marker variables, so a run killed
outright leaves nothing the next run would not reap.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import anyio

from harnessgym.loop.context import RunContext
from mcp_host import HostUnavailableError, host_dir, host_env, kill_tree, list_tools, open_regular, spawn

__all__ = ["HOST_IDLE_SECONDS", "ensure_host", "host_argv", "prestart_host", "stop_host"]

HOST_IDLE_SECONDS = 3600.0
"""A run's host exits after this long without a client, should the run that owns it vanish."""
_READY_SECONDS = 30.0


def host_argv(workspace: str, idle: float = HOST_IDLE_SECONDS, pass_env: Sequence[str] = ()) -> list[str]:
    """The command that starts the workspace's host daemon."""
    argv = [sys.executable, "-I", "-m", "harnessgym", "host", "--workspace", workspace, "--no-stdio",
            "--idle-timeout", f"{idle:g}"]  # fmt: skip
    for name in pass_env:
        argv += ["--pass-env", name]
    return argv


async def prestart_host(ctx: RunContext) -> None:
    """Start the workspace's host now, without waiting for it, when a phase is about to qualify an MCP server:
    its start (the MCP SDK's imports, most of a second on a loaded machine) then overlaps qualification rather
    than delaying the next session. It serves nothing until an activation lists a server, and picks that up
    live; the run stops it at the end like any host it started. A failure here is reported by :func:`ensure_host`."""
    await _start(ctx)


async def _start(ctx: RunContext) -> str | None:
    """Spawn the run's host unless one already serves the workspace; None, or why it could not start."""
    ws = ctx.layout.workspace
    if (ctx.host is not None and ctx.host.returncode is None) or await _answers(ctx):
        return None
    log = host_dir(ws) / "daemon.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        err = open_regular(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    except OSError:
        err = os.open(os.devnull, os.O_WRONLY)
    try:
        passed = ctx.config.mcp_pass_env  # the user's choice: these reach the host, secret-named or not
        env = {**host_env({**os.environ, **ctx.env}), **{n: os.environ[n] for n in passed if n in os.environ}}
        argv = host_argv(str(ws), pass_env=passed)
        ctx.host = await spawn(argv, cwd=ws, env=env, stdin=None, stdout=None, stderr=err)
    except OSError as exc:
        return f"the run's MCP host could not be started: {exc}"
    finally:
        os.close(err)
    return None


async def ensure_host(ctx: RunContext) -> str | None:
    """Make sure the workspace's host is up and lists every activated server's tools; None, or what is wrong."""
    if ctx.activation is None or not ctx.activation.mcp_servers:
        return None
    ws = ctx.layout.workspace
    problem = await _start(ctx)
    if problem is not None:
        return problem
    # The host follows the active set by polling it: wait until it offers what was just activated, so the
    # session's first tools/list has it (a server that cannot start is reported after a while instead).
    wanted = {s.name for s in ctx.activation.mcp_servers}
    offered: set[str] = set()
    with anyio.move_on_after(_READY_SECONDS):
        while True:
            try:
                tools = await list_tools(ws, start=False, timeout=_READY_SECONDS)
            except (HostUnavailableError, OSError):
                if ctx.host is not None and ctx.host.returncode is not None:
                    return f"the run's MCP host exited with code {ctx.host.returncode}; see {host_dir(ws)}/daemon.log"
            else:
                offered = {str((t.get("_meta") or {}).get("harnessgym/server")) for t in tools}
                if wanted <= offered:
                    return None
            await anyio.sleep(0.05)
    missing = ", ".join(sorted(wanted - offered))
    return f"the run's MCP host offers no tools of {missing} after {_READY_SECONDS:g} s; see {host_dir(ws)}/logs"


async def _answers(ctx: RunContext) -> bool:
    """Whether a host already serves the workspace (one daemon per workspace)."""
    try:
        await list_tools(ctx.layout.workspace, start=False, timeout=10)
    except (HostUnavailableError, OSError, TimeoutError):
        return False
    return True


async def stop_host(ctx: RunContext) -> None:
    """Stop the host this run started (with every server it runs)."""
    proc, ctx.host = ctx.host, None
    if proc is None:
        return
    with anyio.CancelScope(shield=True):
        await kill_tree(proc.pid, grace=2.0)
        with anyio.move_on_after(5):
            await proc.wait()
