"""The report of one run: score per iteration against the baseline and the best, MCP calls per iteration by
tool, the artifact timeline with verdicts, and how long each phase took (from the journal's timestamps)."""

from __future__ import annotations

from pathlib import Path

from harnessgym import store
from harnessgym.config import RunConfig
from harnessgym.jobs.runs import get_run
from harnessgym.records import IterationRecord, JournalEntry
from harnessgym.report import plots
from harnessgym.report.page import Page, Section, Table
from harnessgym.report.rows import COLUMNS, artifact_lines, iteration_rows
from harnessgym.store.layout import Layout

__all__ = ["run_page"]

PHASE_ORDER = ("prepare", "attempt", "verify", "reflection", "build", "qualify", "activate")


def phase_durations(entries: list[JournalEntry]) -> dict[int, dict[str, float]]:
    """Seconds per iteration and phase, from each ``phase_started`` to its ``phase_completed`` (a phase run
    again after a resume counts its last run)."""
    started: dict[tuple[int, str], JournalEntry] = {}
    durations: dict[int, dict[str, float]] = {}
    for entry in entries:
        if entry.iteration is None or entry.phase is None:
            continue
        key = (entry.iteration, entry.phase)
        if entry.kind == "phase_started":
            started[key] = entry
        elif entry.kind == "phase_completed" and key in started:
            seconds = (entry.at - started.pop(key).at).total_seconds()
            durations.setdefault(entry.iteration, {})[entry.phase] = max(0.0, seconds)
    return durations


def _mcp_by_tool(workspace: Path, run_id: str) -> dict[int, dict[str, int]]:
    try:
        from mcp_host import summarize_calls
    except ImportError:
        return {}
    return {int(k): dict(v) for k, v in summarize_calls(workspace, run_id).by_iteration_tool.items()}


def run_page(run_dir: Path) -> Page:
    layout = Layout(run_dir.parents[2])
    run_id = run_dir.name
    info = get_run(layout.workspace, run_id)
    run = layout.run(run_id)
    entries = store.read_journal(run.journal)
    records: dict[int, IterationRecord] = store.iteration_records(entries)
    config = store.read_model(run.config, RunConfig)
    measured = store.read_baseline(layout, run_id)
    # As in the run itself, only a passing measurement's score counts (a failing baseline has none).
    baseline = measured.score if measured is not None and measured.passed else None
    briefs = info.iterations
    iterations = [b.iteration for b in briefs]
    score_key = config.measure_score_key if config else "score"
    higher = config.higher_is_better if config else False
    facts = [("Run", run_id), ("Workspace", str(layout.workspace)), ("Status", info.status),
             ("Solved", f"{info.solved} ({info.evidence})"),
             ("Iterations", f"{len(briefs)} of {info.iterations_planned or '?'}"),
             ("Best score", "-" if info.best_score is None else f"{info.best_score:.6g}")]  # fmt: skip
    if measured is not None:
        facts.append(("Baseline score", "none (the measurement failed)" if baseline is None else f"{baseline:.6g}"))
    if info.cost_usd is not None:
        facts.append(("Cost", f"${info.cost_usd:.4f}"))
    if config is not None:
        facts.append(("Runner", config.runner))
    sections = [Section("Iterations", table=Table(COLUMNS, iteration_rows(briefs)))]
    if not briefs:
        sections.append(Section("Nothing yet", notes=["The run has not finished an iteration's phase yet."]))
        return Page(f"harnessgym run {run_id}", facts, sections)

    values = [b.score for b in briefs]
    if any(v is not None for v in values) or baseline is not None:
        svg = plots.scores(iterations, values, [b.best_score for b in briefs],
                           baseline, label=score_key,
                           lower_is_better=not higher)  # fmt: skip
        note = f"The measured {score_key} of each attempt and the best so far" + (
            ", against the baseline measured on the untouched workspace." if baseline is not None else "."
        )
        sections.append(Section("Score per iteration", notes=[note], svg=svg))
    else:
        sections.append(Section("Score per iteration", notes=["No attempt recorded a score."]))

    by_tool = _mcp_by_tool(layout.workspace, run_id)
    tools = sorted({t for counts in by_tool.values() for t in counts})
    rows = [[str(i), *(str(by_tool.get(i, {}).get(t, 0)) for t in tools), str(sum(by_tool.get(i, {}).values()))]
            for i in iterations]  # fmt: skip
    sections.append(Section(
        "MCP calls per iteration", notes=["Tool calls the host recorded in .harnessgym/mcp_calls.jsonl, by "
                                          "<server>__<tool>."],
        svg=plots.mcp_calls(iterations, by_tool), table=Table(["iteration", *tools, "total"], rows),
    ))  # fmt: skip

    timeline = [(n.artifact_id, b.iteration, n.verdict) for b in briefs for n in b.artifacts]
    names = list(dict.fromkeys(a for a, _, _ in timeline))
    if names:
        sections.append(Section("Artifacts", notes=artifact_lines(briefs),
                                svg=plots.artifact_timeline(names, timeline, iterations)))  # fmt: skip
    else:
        sections.append(Section("Artifacts", notes=["No iteration built or changed an artifact."]))

    durations = phase_durations(entries)
    phases = [p for p in PHASE_ORDER if any(p in d for d in durations.values())]
    phases += sorted({p for d in durations.values() for p in d} - set(phases))
    rows = [[str(i), *(f"{durations[i][p]:.1f}" if p in durations.get(i, {}) else "-" for p in phases)]
            for i in iterations]  # fmt: skip
    sections.append(Section("Phase durations", notes=["Seconds from each phase's start to its end, as journaled "
                                                      "(- : skipped, as after a solved attempt)."],
                            svg=plots.phase_durations(iterations, durations, phases),
                            table=Table(["iteration", *phases], rows)))  # fmt: skip
    problems = [f"iteration {n}: {p}" for n, r in sorted(records.items()) for p in r.problems]
    if problems:
        sections.append(Section("Problems recorded", notes=problems[:50]))
    return Page(f"harnessgym run {run_id}", facts, sections)
