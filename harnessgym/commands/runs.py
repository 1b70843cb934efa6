"""``harnessgym runs list|show``: the runs of a workspace, read from disk (also while one is live)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

__all__ = ["runs"]

_WORKSPACE = click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                          show_default=True, help="The workspace whose .harnessgym/runs are read.")  # fmt: skip
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


@click.group(name="runs")
def runs() -> None:
    """List the runs of a workspace, or show one with its iterations."""


@runs.command(name="list")
@_WORKSPACE
@_JSON
def list_command(workspace: Path, as_json: bool) -> None:
    """Every run in the workspace, oldest first: status, iterations, evidence, best score, cost."""
    from rich import box
    from rich.table import Table

    from harnessgym.commands.ending import stdout_console
    from harnessgym.jobs.runs import list_runs

    infos = list_runs(workspace.expanduser().absolute())
    if as_json:
        click.echo(json.dumps([i.model_dump(mode="json", exclude={"iterations"}) for i in infos], indent=2))
        return
    if not infos:
        click.echo(f"no runs in {workspace.absolute()}/.harnessgym/runs; start one with `harnessgym run`")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("run id", "status", "iterations", "solved", "evidence", "best score", "cost", "started"):
        table.add_column(column)
    for i in infos:
        done = len(i.iterations)
        started = i.started_at.strftime("%Y-%m-%d %H:%M") if i.started_at else "-"
        table.add_row(
            i.run_id,
            i.status,
            f"{done}/{i.iterations_planned or '?'}",
            str(i.solved),
            i.evidence,
            _score(i.best_score),
            "-" if i.cost_usd is None else f"${i.cost_usd:.4f}",
            started,
        )
    stdout_console().print(table)


@runs.command(name="show")
@click.argument("run_id")
@_WORKSPACE
@_JSON
def show_command(run_id: str, workspace: Path, as_json: bool) -> None:
    """One run: where it stands, and a row per iteration with its artifacts."""
    from harnessgym.commands.ending import iteration_table, stdout_console
    from harnessgym.errors import HarnessgymError
    from harnessgym.jobs.runs import get_run
    from harnessgym.report.rows import artifact_lines

    try:
        info = get_run(workspace.expanduser().absolute(), run_id)
    except HarnessgymError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(info.model_dump(mode="json"), indent=2))
        return
    out = stdout_console()
    facts: list[tuple[str, Any]] = [
        ("Run id", info.run_id), ("Status", info.status), ("Folder", info.run_dir),
        ("Iterations", f"{len(info.iterations)} of {info.iterations_planned or '?'}"),
        ("Solved", f"{info.solved} ({info.evidence})"), ("Best score", _score(info.best_score)),
        ("Cost", "-" if info.cost_usd is None else f"${info.cost_usd:.4f}"),
    ]  # fmt: skip
    if info.status == "running":
        facts.append(("Now", f"iteration {info.current_iteration}, {info.current_phase}"))
    for label, value in facts:
        out.print(f"{label}: {value}")
    lines = artifact_lines(info.iterations)
    out.print("Artifacts built or changed:" + ("" if lines else " none"))
    for line in lines:
        out.print(f"  {line}")
    if info.iterations:
        out.print(iteration_table(info.iterations))
    if info.status == "interrupted":
        out.print(f"Resume with: harnessgym run --resume {info.run_id} --workspace {info.workspace}")
