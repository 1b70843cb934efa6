"""``harnessgym serve``: the MCP control plane, so Claude Code or an IDE can drive the loop with tools.

Every option is generated from :class:`~harnessgym.serve.ServeSettings` (see harnessgym.options).
"""

from __future__ import annotations

from pathlib import Path
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
    wire = _answer_initialize_early(settings.state_dir) if settings.transport == "stdio" else None
    try:
        run_server(settings, wire)
    except OSError as exc:
        where = f"{settings.host}:{settings.port}"
        raise click.ClickException(f"could not serve on {where}: {exc.strerror or exc}") from exc


def _answer_initialize_early(state_dir: Path | None) -> tuple[Any, Any]:
    """Take over the wire (as the SDK's stdio transport does: fd 0 reads EOF and fd 1 goes to stderr, so what
    runs in the server cannot corrupt it) and answer a known ``initialize`` before anything heavy is imported
    (see :mod:`harnessgym.commands._early`); returns the (lines in, writer out) the server then uses."""
    import os

    from harnessgym.commands._early import WireOut, answer_early, cache_path, wire_lines

    wire_in, wire_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    cache = cache_path(state_dir)
    first = answer_early(wire_in, wire_out, cache)
    return wire_lines(first, wire_in), WireOut(wire_out, first, cache)
