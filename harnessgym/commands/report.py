"""``harnessgym report PATH``: one self-contained HTML page (and its Markdown twin) for a run or a comparison."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["report"]


@click.command(name="report")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The HTML file to write [default: report.html in PATH]; the Markdown twin goes beside it (.md).",
)
def report(path: Path, output: Path | None) -> None:
    """Write an offline HTML page with plots and a Markdown twin for PATH: a run folder
    (.harnessgym/runs/<id>) or a comparison's output folder."""
    from harnessgym.errors import HarnessgymError
    from harnessgym.report import write_report

    try:
        import matplotlib  # noqa: F401 - the `report` extra; checked here to say how to get it
    except ImportError as exc:
        raise click.ClickException(f"the report needs matplotlib ({exc}); install it with "
                                   "`pip install 'harnessgym[report]'`") from None  # fmt: skip
    try:
        written = write_report(path.expanduser().absolute(), output)
    except HarnessgymError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Report: {written.html}")
    click.echo(f"Markdown: {written.markdown}")
