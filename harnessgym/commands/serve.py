"""Placeholder: replaced by the module that implements `harnessgym serve`."""

from __future__ import annotations

import click


@click.command(name="serve")
def serve() -> None:
    """Not implemented yet."""
    raise click.ClickException("harnessgym serve is not implemented yet")
