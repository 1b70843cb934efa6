"""``harnessgym serve``: the MCP control plane, so Claude Code or an IDE can drive the loop with tools.

Every option is generated from :class:`~harnessgym.serve.ServeSettings` (see harnessgym.options).
"""

from __future__ import annotations

from typing import Any

import click

from harnessgym.options import ConfigCommand

__all__ = ["serve"]

_MODEL = "harnessgym.serve._settings:ServeSettings"


@click.command(name="serve", cls=ConfigCommand, model=_MODEL)
def serve(**opts: Any) -> None:
    """Run harnessgym as an MCP server: start, watch, cancel and resume runs, score workspaces and manage
    artifacts with tools. Runs live on disk, so a client may disconnect and come back."""
    from harnessgym.options import cli_config, fields_from_cli
    from harnessgym.serve import ServeSettings, run_server

    settings = cli_config(ServeSettings, fields_from_cli(ServeSettings, opts))
    try:
        run_server(settings)
    except OSError as exc:
        where = f"{settings.host}:{settings.port}"
        raise click.ClickException(f"could not serve on {where}: {exc.strerror or exc}") from exc
