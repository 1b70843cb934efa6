"""``--help`` with options under headed sections (click lists them in one flat block otherwise).

Only click and the standard library are imported here, so ``harnessgym --help`` stays instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

__all__ = ["SectionedCommand", "Sections"]

Sections = Sequence[tuple[str, Sequence[str]]]


class SectionedCommand(click.Command):
    """A command whose help lists its options in ``sections``: ``(title, parameter names)`` in order. Options
    no section names (``--help`` among them) follow under "Other options", so none is ever hidden."""

    def __init__(self, *args: Any, sections: Sections = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sections = tuple((title, tuple(names)) for title, names in sections)

    def help_sections(self, ctx: click.Context) -> Sections:
        """The sections to list, in order (a subclass may work them out when help is asked for)."""
        return self.sections

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = {p.name: r for p in self.get_params(ctx) if (r := p.get_help_record(ctx)) is not None}
        for title, names in self.help_sections(ctx):
            rows = [records.pop(name) for name in names if name in records]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
        if records:
            with formatter.section("Other options"):
                formatter.write_dl(list(records.values()))
