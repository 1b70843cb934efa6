"""Placeholder: replaced by the module that implements `harnessgym run`."""

from __future__ import annotations

import click


@click.command(name="run")
def run() -> None:
    """Not implemented yet."""
    raise click.ClickException("harnessgym run is not implemented yet")
