"""Placeholder: replaced by the module that implements `harnessgym schema`."""

from __future__ import annotations

import click


@click.command(name="schema")
def schema() -> None:
    """Not implemented yet."""
    raise click.ClickException("harnessgym schema is not implemented yet")
