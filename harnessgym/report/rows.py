"""Text rows of a run's iterations and artifacts, shared by the end of ``harnessgym run``, ``runs show`` and the
report (plain strings: no rich, no matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence

from harnessgym.records import IterationBrief

__all__ = ["COLUMNS", "artifact_lines", "iteration_rows"]

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


def iteration_rows(briefs: Sequence[IterationBrief]) -> list[tuple[str, ...]]:
    """The table's rows, as text (``runs show`` and the report use them too)."""
    return [
        (str(b.iteration), _attempt(b), _evidence(b), _number(b.score), _number(b.best_score), str(b.mcp_calls),
         _duration(b.duration_seconds), "-" if b.cost_usd is None else f"${b.cost_usd:.4f}")
        for b in briefs
    ]  # fmt: skip


def artifact_lines(briefs: Sequence[IterationBrief]) -> list[str]:
    """One line per artifact an iteration built or changed: its id, verdict, state and tools."""
    lines: list[str] = []
    for b in briefs:
        for note in b.artifacts:
            tools = f", tools: {', '.join(note.tools)}" if note.tools else ""
            why = f" ({note.message})" if note.message else ""
            verdict = "not qualified" if note.verdict == "not_qualified" else f"{note.verdict} qualification"
            lines.append(f"iteration {b.iteration}: {note.artifact_id}: {verdict}, {note.state}{tools}{why}")
    return lines
