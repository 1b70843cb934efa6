"""``harnessgym compares list|show``: comparisons on disk (an output folder holds one), finished or not, read
by the library (:func:`harnessgym.jobs.compares.list_compares` and ``get_compare``) as ``serve`` reads them."""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["compares"]


@click.group(name="compares")
def compares() -> None:
    """List comparison folders, or show one's verdict and trials."""


@compares.command(name="list")
@click.argument("root", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(root: Path, as_json: bool) -> None:
    """Comparisons under ROOT (default: the current folder): status, trials, verdict."""
    from rich import box
    from rich.table import Table

    from harnessgym.commands.ending import stdout_console
    from harnessgym.jobs.compares import list_compares

    found = list_compares(root.expanduser().absolute())
    rows = [{"output_dir": str(c.output_dir), "status": c.status, "trials": len(c.trials),
             "planned": c.trials_planned, "verdict": c.report.verdict.outcome if c.report else None,
             "headline": c.report.verdict.headline if c.report else (c.error or "")} for c in found]  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no comparison under {root.absolute()}; start one with `harnessgym compare`")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("output dir", "status", "trials", "verdict", "headline"):
        table.add_column(column, overflow="fold")
    for r in rows:
        trials = f"{r['trials']}/{r['planned']}" if r["planned"] is not None else str(r["trials"])
        table.add_row(str(r["output_dir"]), str(r["status"]), trials, str(r["verdict"] or "-"), str(r["headline"]))
    stdout_console().print(table)


@compares.command(name="show")
@click.argument("output_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the comparison (report, trials, job) as JSON.")
def show_command(output_dir: Path, as_json: bool) -> None:
    """One comparison: its table, tests and verdict, or the trials so far while it runs."""
    from harnessgym.compare.models import OutputLayout, TrialKey
    from harnessgym.compare.render import print_report, trial_line
    from harnessgym.errors import HarnessgymError
    from harnessgym.jobs.compares import get_compare

    try:
        info = get_compare(output_dir.expanduser().absolute())
    except HarnessgymError as exc:
        raise click.ClickException(f"{exc}; `harnessgym compares list` finds them") from None
    if as_json:
        click.echo(json.dumps(info.model_dump(mode="json"), indent=2))
        return
    if info.report is not None:
        print_report(info.report, OutputLayout(info.output_dir).report)
        return
    click.echo(f"{info.output_dir}: {info.status}, {len(info.trials)} trial(s) finished, no report yet"
               + (f" ({info.error})" if info.error else ""))  # fmt: skip
    for t in info.trials:
        click.echo(trial_line(TrialKey(group=t.group, index=t.index), t.position, 0, t).replace("/0]", "]", 1))
