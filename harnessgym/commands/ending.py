"""The end of ``harnessgym run``: the artifacts each iteration built or changed, with their verdicts, and one
table row per iteration (attempt outcome, evidence, score and best so far, MCP calls, duration, cost)."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table

from harnessgym.records import IterationBrief, RunSummary
from harnessgym.report.rows import COLUMNS, artifact_lines, iteration_rows

__all__ = ["iteration_table", "print_ending", "stdout_console"]


def stdout_console() -> Console:
    """The console for results on stdout; a log or a pipe has no terminal to decide the width, so tables get
    120 columns there rather than rich's 80."""
    out = Console(highlight=False, soft_wrap=True)
    if not out.is_terminal:
        out.width = max(out.width, 120)
    return out


def iteration_table(briefs: Sequence[IterationBrief]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Iterations", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="right" if column in ("iter", "MCP calls") else "left")
    for row in iteration_rows(briefs):
        table.add_row(*row)
    return table


def print_ending(summary: RunSummary, out: Console) -> None:
    lines = artifact_lines(summary.iterations)
    out.print("Artifacts built or changed:" + ("" if lines else " none"))
    for line in lines:
        out.print(f"  {line}")
    if summary.iterations:
        out.print(iteration_table(summary.iterations))
