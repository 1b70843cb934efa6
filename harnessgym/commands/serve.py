"""``harnessgym serve``: the MCP control plane, so Claude Code or an IDE can drive the loop with tools."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["serve"]


@click.command(name="serve")
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http"]),
    default="stdio",
    show_default=True,
    help="stdio for `claude mcp add harnessgym -- harnessgym serve`; http for streamable HTTP at /mcp.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP bind address.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="HTTP port; 0 picks one.")
@click.option(
    "--token",
    envvar="HARNESSGYM_SERVE_TOKEN",
    help="Bearer token every HTTP request must send (env HARNESSGYM_SERVE_TOKEN). Required unless the host is "
    "127.0.0.1, ::1 or localhost.",
)
@click.option(
    "--allow-root",
    "allow_roots",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder clients may name workspaces and task files under (repeatable). Default: the current folder.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the server remembers workspaces it has seen. Default: $HARNESSGYM_STATE_DIR or "
    "~/.local/state/harnessgym.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    help="An extra Host header value the DNS-rebinding check accepts, e.g. myhost:8765 or myhost:* (repeatable).",
)
@click.option(
    "--url-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the bound HTTP URL here once listening (useful with --port 0).",
)
def serve(
    transport: str,
    host: str,
    port: int,
    token: str | None,
    allow_roots: tuple[Path, ...],
    state_dir: Path | None,
    allowed_hosts: tuple[str, ...],
    url_file: Path | None,
) -> None:
    """Run harnessgym as an MCP server: start, watch, cancel and resume runs, score workspaces and manage
    artifacts with tools. Runs live on disk, so a client may disconnect and come back."""
    from harnessgym.options import cli_config
    from harnessgym.serve import ServeSettings, run_server

    fields: dict[str, object] = {
        "transport": transport,
        "host": host,
        "port": port,
        "token": token or None,
        "allowed_hosts": allowed_hosts,
        "url_file": url_file,
    }
    if allow_roots:
        fields["allow_roots"] = allow_roots
    if state_dir is not None:
        fields["state_dir"] = state_dir
    settings = cli_config(ServeSettings, fields)
    try:
        run_server(settings)
    except OSError as exc:
        raise click.ClickException(f"could not serve on {host}:{port}: {exc.strerror or exc}") from exc
