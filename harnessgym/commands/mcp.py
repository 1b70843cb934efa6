"""``harnessgym mcp``: reach the running host from a shell (``call``), or bridge one server (``bridge``)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["mcp"]


@click.group(name="mcp")
def mcp() -> None:
    """Use MCP servers from a shell, or bridge one server's framing."""


def _print_result(reply: dict[str, Any], raw: bool) -> int:
    from harnessgym.commands._quick import print_result

    return print_result(reply, raw, click.echo)


@mcp.command(name="call")
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True)
@click.option("--server", default=None, help="The server's name (required unless --list-tools).")
@click.option("--tool", default=None, help="The tool's name on its server.")
@click.option("--arguments", default="{}", help="The arguments as a JSON object.")
@click.option("--arguments-file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--list-tools", is_flag=True, help="List the tools the host offers (optionally of --server).")
@click.option("--raw", is_flag=True, help="Print the whole result.")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds to wait for the host.")
@click.option("--no-start", is_flag=True, help="Fail instead of starting a host daemon when none is running.")
@click.option(
    "--idle-timeout",
    type=float,
    default=600.0,
    show_default=True,
    help="A host daemon started here exits after this many seconds without clients.",
)
def call(
    workspace: Path,
    server: str | None,
    tool: str | None,
    arguments: str,
    arguments_file: Path | None,
    list_tools: bool,
    raw: bool,
    timeout: float,
    no_start: bool,
    idle_timeout: float,
) -> None:
    """Call one tool through the host already running for the workspace (started on demand)."""
    import anyio

    import mcp_host

    workspace = workspace.resolve()
    if list_tools:
        try:
            tools = anyio.run(
                lambda: mcp_host.list_tools(workspace, timeout=timeout, start=not no_start, idle_timeout=idle_timeout)
            )
        except mcp_host.MCPHostError as exc:
            raise click.ClickException(str(exc)) from None
        rows = []
        for entry in tools:
            meta = entry.get("_meta") or {}
            owner = meta.get("harnessgym/server") or str(entry["name"]).partition("__")[0]
            if server is None or owner == server:
                rows.append(
                    {
                        "name": entry["name"],
                        "server": owner,
                        "tool": meta.get("harnessgym/tool") or str(entry["name"]).partition("__")[2],
                        "description": entry.get("description", ""),
                    }
                )
        click.echo(json.dumps(rows, indent=2))
        return
    if not server or not tool:
        raise click.UsageError("--server and --tool are required (or use --list-tools)")
    text = arguments_file.read_text() if arguments_file is not None else arguments
    try:
        args = json.loads(text)
    except ValueError as exc:
        raise click.UsageError(f"--arguments is not JSON: {exc}") from None
    if not isinstance(args, dict):
        raise click.UsageError("--arguments must be a JSON object")
    try:
        reply = anyio.run(
            lambda: mcp_host.call_tool(
                workspace, server, tool, args, timeout=timeout, start=not no_start, idle_timeout=idle_timeout
            )
        )
    except mcp_host.MCPHostError as exc:
        raise click.ClickException(str(exc)) from None
    except TimeoutError:
        raise click.ClickException(f"no answer from the host within {timeout:g} s") from None
    sys.exit(_print_result(reply, raw))


@mcp.command(name="bridge", context_settings={"ignore_unknown_options": True})
@click.option("--server-name", default="server", show_default=True, help="The server's name in telemetry.")
@click.option("--cwd", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True)
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where telemetry goes (default: $HARNESSGYM_WORKSPACE, else --cwd).",
)
@click.option("--framing", type=click.Choice(["auto", "newline", "content-length"]), default="auto", show_default=True)
@click.option("--startup-timeout", type=float, default=10.0, show_default=True)
@click.option("--response-timeout", "--tool-timeout", "tool_timeout", type=float, default=60.0, show_default=True)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def bridge(
    server_name: str,
    cwd: Path,
    workspace: Path | None,
    framing: str,
    startup_timeout: float,
    tool_timeout: float,
    command: tuple[str, ...],
) -> None:
    """Relay stdio MCP to one server (`-- CMD ARGS…`), translating framing and recording every call."""
    import os

    import anyio

    from mcp_host import BridgeOptions, RunTag, run_bridge

    logging.basicConfig(level=logging.WARNING, format="harnessgym bridge: %(message)s")
    ws = workspace or Path(os.environ.get("HARNESSGYM_WORKSPACE") or cwd)
    options = BridgeOptions(
        argv=command,
        name=server_name,
        cwd=cwd,
        workspace=ws,
        framing=framing,  # type: ignore[arg-type]
        startup_timeout=startup_timeout,
        tool_timeout=tool_timeout,
        tag=RunTag.from_env(),
    )
    anyio.run(run_bridge, options)
