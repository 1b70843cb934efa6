"""``harnessgym compares list|show``: comparisons on disk (an output folder holds one), finished or not.

The folders are read by :func:`read_compare`, a small stand-in for the library's comparison listing: it reads
``compare_report.json`` when there is one, else the ``trial.json`` files written so far.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

__all__ = ["CompareFolder", "compares", "find_compares", "read_compare"]

_MAX_DEPTH = 3
"""How deep ``compares list`` looks under its root for comparison folders."""


@dataclass(frozen=True)
class CompareFolder:
    """What a comparison's output folder says about it."""

    path: Path
    status: str
    """``completed`` or ``interrupted`` (from the report), ``running`` (its lock is held), or ``unfinished``."""
    report: Any | None
    """The :class:`~harnessgym.compare.models.CompareReport`, when one was written."""
    trials: list[Any]
    """The trial records written so far (the report's, when there is one)."""


def read_compare(path: Path) -> CompareFolder | None:
    """The comparison in ``path``, or None when the folder holds neither a report nor trials."""
    from harnessgym import store
    from harnessgym.compare.models import GROUPS, CompareReport, OutputLayout, TrialRecord
    from harnessgym.store.layout import Layout

    layout = OutputLayout(path)
    report = store.read_model(layout.report, CompareReport)
    if report is not None:
        return CompareFolder(path, report.status, report, list(report.trials))
    trial_dirs = [d for g in GROUPS for d in sorted(layout.group_dir(g).glob("trial_*"))]
    if not trial_dirs and not layout.report.exists():
        return None
    records = [r for d in trial_dirs if (r := store.read_model(d / "trial.json", TrialRecord)) is not None]
    status = "running" if store.lock_is_held(Layout(path)) else "unfinished"
    if layout.report.exists():
        status = "unreadable report"
    return CompareFolder(path, status, None, sorted(records, key=lambda r: r.position))


def find_compares(root: Path) -> list[CompareFolder]:
    """Every comparison folder at or below ``root`` (up to a few levels; trial workspaces are not entered)."""
    found: list[CompareFolder] = []
    frontier = [root]
    for _ in range(_MAX_DEPTH + 1):
        below: list[Path] = []
        for folder in frontier:
            listing = read_compare(folder)
            if listing is not None:
                found.append(listing)
                continue
            try:
                below += sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()
                                and not p.name.startswith("."))  # fmt: skip
            except OSError:
                continue
        frontier = below
    return sorted(found, key=lambda c: str(c.path))


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

    found = find_compares(root.expanduser().absolute())
    rows = [{"output_dir": str(c.path), "status": c.status, "trials": len(c.trials),
             "planned": len(c.report.order) if c.report else None,
             "verdict": c.report.verdict.outcome if c.report else None,
             "headline": c.report.verdict.headline if c.report else ""} for c in found]  # fmt: skip
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
@click.option("--json", "as_json", is_flag=True, help="Print the report (or the trials so far) as JSON.")
def show_command(output_dir: Path, as_json: bool) -> None:
    """One comparison: its table, tests and verdict, or the trials so far while it runs."""
    from harnessgym.compare.models import TrialKey
    from harnessgym.compare.render import print_report, trial_line

    folder = read_compare(output_dir.expanduser().absolute())
    if folder is None:
        raise click.ClickException(f"no comparison in {output_dir}: it holds neither compare_report.json nor "
                                   "trials; `harnessgym compares list` finds them")  # fmt: skip
    if as_json:
        value = (
            folder.report.model_dump(mode="json")
            if folder.report
            else [t.model_dump(mode="json") for t in folder.trials]
        )
        click.echo(json.dumps(value, indent=2))
        return
    if folder.report is not None:
        from harnessgym.compare.models import OutputLayout

        print_report(folder.report, OutputLayout(folder.path).report)
        return
    click.echo(f"{folder.path}: {folder.status}, {len(folder.trials)} trial(s) finished, no report yet")
    for t in folder.trials:
        click.echo(trial_line(TrialKey(group=t.group, index=t.index), t.position, 0, t).replace("/0]", "]", 1))
