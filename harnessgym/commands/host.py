"""``harnessgym host``: serve the workspace's active MCP servers as one MCP server on stdio."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

__all__ = ["host"]


@click.command(name="host")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The workspace whose active servers (.harnessgym/host/active.json) are served.",
)
@click.option("--run-id", default=None, help="Run id recorded with every call (default: $HARNESSGYM_RUN_ID).")
@click.option("--iteration", type=int, default=None, help="Iteration recorded with every call.")
@click.option("--phase", default=None, help="Phase recorded with every call.")
@click.option("--no-stdio", is_flag=True, help="Serve only the unix socket (a daemon for `harnessgym mcp call`).")
@click.option("--no-socket", is_flag=True, help="Do not listen on the workspace's unix socket.")
@click.option(
    "--idle-timeout",
    type=float,
    default=600.0,
    show_default=True,
    help="With --no-stdio: exit after this many seconds without a client.",
)
@click.option(
    "--ping-timeout",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds a health ping may take before a server counts as wedged and is restarted.",
)
@click.option(
    "--idle-ping-after",
    type=float,
    default=30.0,
    show_default=True,
    help="Ping a server after this many seconds with no call in flight.",
)
@click.option(
    "--pass-env",
    "pass_env",
    multiple=True,
    metavar="NAME",
    help="Repeatable. A variable of the host's environment passed on to every server (even secret-named).",
)
def host(
    workspace: Path,
    run_id: str | None,
    iteration: int | None,
    phase: str | None,
    no_stdio: bool,
    no_socket: bool,
    idle_timeout: float,
    ping_timeout: float,
    idle_ping_after: float,
    pass_env: tuple[str, ...],
) -> None:
    """Serve every active server's tools as <server>__<tool> over MCP (stdio), recording every call."""
    import anyio

    from mcp_host import HealthPolicy, HostOptions, RunTag, run_host

    logging.basicConfig(level=logging.WARNING, format="harnessgym host: %(message)s")
    env_tag = RunTag.from_env()
    tag = RunTag(
        run_id=run_id if run_id is not None else env_tag.run_id,
        iteration=iteration if iteration is not None else env_tag.iteration,
        phase=phase if phase is not None else env_tag.phase,
    )
    if not workspace.is_dir():
        raise click.ClickException(f"the workspace {workspace} is not a directory")
    _say_when_nothing_is_active(workspace.absolute(), interactive=sys.stdin.isatty() and not no_stdio)
    options = HostOptions(
        workspace=workspace,
        tag=tag,
        stdio=not no_stdio,
        listen=not no_socket,
        idle_timeout=idle_timeout if no_stdio else None,
        health=HealthPolicy(ping_timeout=ping_timeout, idle_ping_after=idle_ping_after),
        pass_env=pass_env,
    )
    anyio.run(run_host, options)


def _say_when_nothing_is_active(workspace: Path, *, interactive: bool) -> None:
    """Nothing to serve: a person at a terminal gets an error; an MCP client (stdin is a pipe) gets the same
    words on stderr and a host that serves what is activated later, without a restart."""
    from mcp_host import read_active_servers

    servers, problem = read_active_servers(workspace)
    if servers:
        return
    why = problem or f"nothing is active in {workspace}: .harnessgym/host/active.json lists no MCP server"
    what = (f"`harnessgym artifacts list --workspace {workspace}` shows what the registry holds, `harnessgym "
            f"artifacts qualify --all --workspace {workspace}` checks and activates it (a bundle copied in from "
            "elsewhere too), and `harnessgym run` builds new ones")  # fmt: skip
    if interactive:
        raise click.ClickException(f"{why}. {what}")
    click.echo(f"harnessgym host: {why}; serving no tools until one is activated. {what}", err=True)
