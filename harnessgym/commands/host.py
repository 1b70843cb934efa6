"""Placeholder: replaced by the module that implements `harnessgym host`."""

from __future__ import annotations

import click


@click.command(name="host")
def host() -> None:
    """Not implemented yet."""
    raise click.ClickException("harnessgym host is not implemented yet")
