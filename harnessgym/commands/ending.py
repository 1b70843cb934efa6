"""The end of ``harnessgym run``: the artifacts each iteration built or changed, with their verdicts, and one
table row per iteration (attempt outcome, evidence, score and best so far, MCP calls, duration, cost)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from harnessgym.records import IterationBrief, RunSummary

__all__ = ["artifact_lines", "iteration_rows", "print_ending"]

COLUMNS = ("iter", "attempt", "evidence", "score", "best so far", "MCP calls", "duration", "cost")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def _attempt(brief: IterationBrief) -> str:
    done = brief.attempt_status
    claim = f"claims {brief.claim_status}" if brief.claim_status else "no claim"
    if done is None:
        return "not run"
    return claim if done == "completed" else f"{done}, {claim}"


def _evidence(brief: IterationBrief) -> str:
    if brief.verdict_status is not None:
        return f"verify {brief.verdict_status}"
    return {"verified": "measured", "agent_claim": "agent's claim"}.get(brief.evidence, "none")


def iteration_rows(summary: RunSummary) -> list[tuple[str, ...]]:
    """The table's rows, as text (the Markdown report uses them too)."""
    return [
        (str(b.iteration), _attempt(b), _evidence(b), _number(b.score), _number(b.best_score), str(b.mcp_calls),
         _duration(b.duration_seconds), "-" if b.cost_usd is None else f"${b.cost_usd:.4f}")
        for b in summary.iterations
    ]  # fmt: skip


def artifact_lines(summary: RunSummary) -> list[str]:
    """One line per artifact an iteration built or changed: its id, verdict, state and tools."""
    lines: list[str] = []
    for b in summary.iterations:
        for note in b.artifacts:
            tools = f", tools: {', '.join(note.tools)}" if note.tools else ""
            why = f" ({note.message})" if note.message else ""
            verdict = "not qualified" if note.verdict == "not_qualified" else f"{note.verdict} qualification"
            lines.append(f"iteration {b.iteration}: {note.artifact_id}: {verdict}, {note.state}{tools}{why}")
    return lines


def print_ending(summary: RunSummary, out: Console) -> None:
    lines = artifact_lines(summary)
    out.print("Artifacts built or changed:" + ("" if lines else " none"))
    for line in lines:
        out.print(f"  {line}")
    if not summary.iterations:
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Iterations", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="right" if column in ("iter", "MCP calls") else "left")
    for row in iteration_rows(summary):
        table.add_row(*row)
    out.print(table)
