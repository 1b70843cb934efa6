"""Building the control server and running it on a transport."""

from __future__ import annotations

from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.types import Tool, ToolAnnotations

from harnessgym.serve._compare_tools import COMPARE_TOOLS
from harnessgym.serve._resources import register_resources
from harnessgym.serve._run_tools import RUN_TOOLS
from harnessgym.serve._settings import ServeSettings
from harnessgym.serve._state import ControlState, control_lifespan
from harnessgym.serve._workspace_tools import WORKSPACE_TOOLS
from mcp_host import __version__, cancel_on_signal

__all__ = ["build_server", "run_server", "serve_async", "standard_schema"]

_INSTRUCTIONS = """\
harnessgym runs a coding agent on a task for several iterations; after each attempt the agent reflects and
builds the instruments it missed (skills, MCP tools, verifiers), which are qualified and handed to the next
fresh session. Start with start_run (task_file or task_text, workspace, verify_command), then poll get_run
with wait_seconds until its status is no longer 'running'. To step the loop yourself, call start_iteration,
then start_iteration with the returned run_id for each next iteration. To measure whether the harness helps,
start_compare runs plain against harnessed trials from a clean workspace_template in the background; poll
get_compare with wait_seconds for its verdict (cancel_compare stops it). Workspaces, templates and output
folders must be under the server's allowed roots.
"""


_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_ANNOTATIONS: dict[str, ToolAnnotations] = {
    "get_run": _READ_ONLY,
    "get_compare": _READ_ONLY,
    "list_runs": _READ_ONLY,
    "list_artifacts": _READ_ONLY,
    "cancel_run": ToolAnnotations(destructive_hint=True, idempotent_hint=True, open_world_hint=False),
    "cancel_compare": ToolAnnotations(destructive_hint=True, idempotent_hint=True, open_world_hint=False),
    "quarantine_artifact": ToolAnnotations(destructive_hint=True, idempotent_hint=True, open_world_hint=False),
}


_PYDANTIC_FORMATS = frozenset({"path", "file-path", "directory-path"})
"""``format`` values pydantic writes for ``Path`` fields. JSON Schema defines no such format, and clients that
validate tool schemas warn about every one of them (``claude mcp list`` printed 74 lines), so they are dropped."""


def standard_schema(schema: Any) -> Any:
    """``schema`` without pydantic's non-standard ``format`` values (a copy; the tool keeps its own)."""
    if isinstance(schema, dict):
        return {k: standard_schema(v) for k, v in schema.items()
                if not (k == "format" and v in _PYDANTIC_FORMATS)}  # fmt: skip
    if isinstance(schema, list):
        return [standard_schema(v) for v in schema]
    return schema


class _ControlServer(MCPServer[ControlState]):
    """The SDK's server, listing tool schemas in standard JSON Schema."""

    async def list_tools(self) -> list[Tool]:
        return [
            tool.model_copy(update={"input_schema": standard_schema(tool.input_schema),
                                    "output_schema": standard_schema(tool.output_schema)})
            for tool in await super().list_tools()
        ]  # fmt: skip


def build_server(settings: ServeSettings) -> MCPServer[ControlState]:
    """The control server: tools and resources over the library, with runs and comparisons in job workers."""
    server: MCPServer[ControlState] = _ControlServer(
        "harnessgym",
        version=__version__,
        instructions=_INSTRUCTIONS,
        lifespan=control_lifespan(settings),
        log_level="WARNING",
    )
    for tool in (*RUN_TOOLS, *COMPARE_TOOLS, *WORKSPACE_TOOLS):
        server.add_tool(tool, annotations=_ANNOTATIONS.get(tool.__name__))
    register_resources(server)
    return server


async def serve_async(settings: ServeSettings, wire: tuple[Any, Any] | None = None) -> None:
    """Serve until the client goes away (stdio) or the process is signalled (both); the runs and comparisons
    it started go on in their job workers.

    ``wire``: for stdio, the (lines in, writer out) to serve on instead of the process's stdio, as
    ``harnessgym serve`` hands them after answering ``initialize`` early (:mod:`harnessgym.commands._early`)."""
    server = build_server(settings)
    if settings.transport == "http":
        from harnessgym.serve._http import serve_http

        # uvicorn handles SIGTERM/SIGINT itself and shuts the lifespan down on its way out (jobs go on).
        await serve_http(server, settings)
        return
    async with anyio.create_task_group() as tg:
        tg.start_soon(cancel_on_signal, tg.cancel_scope)
        if wire is None:
            await server.run_stdio_async()
        else:
            from mcp.server.stdio import stdio_server

            async with stdio_server(stdin=wire[0], stdout=wire[1]) as (read, write):
                # What MCPServer.run_stdio_async does, on the given wire.
                low = server._lowlevel_server
                await low.run(read, write, low.create_initialization_options())
        tg.cancel_scope.cancel()


def run_server(settings: ServeSettings, wire: tuple[Any, Any] | None = None) -> None:
    anyio.run(serve_async, settings, wire)
