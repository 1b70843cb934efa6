"""Placeholder: replaced by the module that implements `harnessgym mcp`."""

from __future__ import annotations

import click


@click.command(name="mcp")
def mcp() -> None:
    """Not implemented yet."""
    raise click.ClickException("harnessgym mcp is not implemented yet")
