"""``harnessgym mcp bridge -- CMD ARGS…``: one server behind a framing-translating, recording relay.

For clients that want servers one by one (a per-server ``mcpServers`` entry): the client speaks newline
JSON (or Content-Length) on our stdio; the server speaks whichever framing it speaks (detected as in
:mod:`mcp_host._supervise.downstream`); tool names pass through unchanged; every ``tools/call`` is timed, bounded by
the tool timeout, and recorded in ``mcp_calls.jsonl``. It is the host's router with one server, no name
prefix, no socket and no active-set file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
from pydantic import BaseModel, ConfigDict

from mcp_host._paths import calls_path, logs_dir
from mcp_host._serve.router import Router
from mcp_host._serve.session import Session
from mcp_host._serve.telemetry import RunTag, TelemetryWriter
from mcp_host._supervise.manifest import ServerSpec, sanitize_name
from mcp_host._wire.fdio import claim_stdio
from mcp_host._wire.framing import Framing

__all__ = ["BridgeOptions", "run_bridge"]


class BridgeOptions(BaseModel):
    """How to bridge one server."""

    model_config = ConfigDict(frozen=True)

    argv: tuple[str, ...]
    """The server's command line."""
    name: str = "server"
    """The server's name in telemetry."""
    cwd: Path
    """Its working directory."""
    workspace: Path
    """Where telemetry and logs go."""
    framing: Framing = "auto"
    """The server's framing."""
    startup_timeout: float = 10.0
    """Seconds for start + initialize + tools/list."""
    tool_timeout: float = 60.0
    """Seconds for one tools/call."""
    tag: RunTag = RunTag()
    """Run, iteration and phase recorded with every call."""


async def run_bridge(options: BridgeOptions) -> None:
    """Relay between our stdio and one server until stdin closes."""
    workspace = options.workspace.resolve()
    command = options.argv[0]
    if command in ("python", "python3"):
        command = sys.executable
    spec = ServerSpec(
        name=sanitize_name(options.name),
        manifest_path=options.cwd,
        command=command,
        args=tuple(options.argv[1:]),
        cwd=options.cwd.resolve(),
        framing=options.framing,
        startup_timeout=options.startup_timeout,
        tool_timeout=options.tool_timeout,
    )
    telemetry = TelemetryWriter(calls_path(workspace))
    async with anyio.create_task_group() as outer:
        await outer.start(telemetry.run)
        try:
            async with anyio.create_task_group() as tg:
                router = Router(
                    workspace=workspace,
                    task_group=tg,
                    telemetry=telemetry,
                    log_dir=logs_dir(workspace),
                    prefix=False,
                    server_name=spec.name,
                )
                tg.start_soon(router.tick)
                tg.start_soon(router.apply, [spec])
                stream = claim_stdio()
                try:
                    await router.serve(Session(stream, options.tag, "stdio"))
                finally:
                    await stream.aclose()
                    await router.stop_all()
                    tg.cancel_scope.cancel()
        finally:
            telemetry.close()
