"""The report of a comparison: per-task paired differences with their intervals (a forest plot), the arms
table, and the leave-one-out effect of each artifact.

A suite comparison (``CompareReport.suite``: tasks, arms, differences, effects, artifacts) is read from the
report's JSON form, so this page renders whichever fields the report has; a one-task comparison gives one
forest row per measure (the solve rate difference with Newcombe's interval, and each shift test's median
difference with its bootstrap interval) and the two-group table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harnessgym.compare.models import CompareReport, GroupSummary, ShiftTest
from harnessgym.compare.render_suite import arm_label
from harnessgym.report import plots
from harnessgym.report.page import Page, Section, Table

__all__ = ["compare_page", "difference_label"]


def _pct(value: Any) -> str:
    return "-" if not isinstance(value, int | float) else f"{value * 100:.0f}%"


def _num(value: Any, unit: str = "") -> str:
    return "-" if not isinstance(value, int | float) else f"{value:.4g}{unit}"


def _ci(pair: Any, scale: float = 1.0, unit: str = "", *, signed: bool = True) -> str:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return "-"
    form = "+.3g" if signed else ".3g"
    return f"{pair[0] * scale:{form}}{unit} to {pair[1] * scale:{form}}{unit}"


def _group_row(g: GroupSummary) -> list[str]:
    duration = g.cumulative_attempt_duration
    rate_ci = _ci(g.solve_rate_ci, 100, "%", signed=False)
    return [g.group, f"{g.n_valid}/{g.n_trials}", str(g.solved), _pct(g.solve_rate), rate_ci,
            _num(duration.median if duration else None, " s"), _num(g.score.median if g.score else None),
            str(g.mcp_call_count), "-" if g.cost_usd is None else f"${g.cost_usd:.4f}"]  # fmt: skip


def _shift_row(name: str, t: ShiftTest | None) -> plots.Interval | None:
    if t is None or t.median_difference_ci is None:
        return None
    lo, hi = t.median_difference_ci
    return plots.Interval(f"{name} ({t.better} is better)", t.median_difference, lo, hi)


def _two_group(report: CompareReport, task: str) -> list[Section]:
    c = report.comparison
    sections: list[Section] = []
    if c.solve_rate_difference is not None and c.solve_rate_difference_ci is not None:
        lo, hi = c.solve_rate_difference_ci
        row = plots.Interval(task, c.solve_rate_difference * 100, lo * 100, hi * 100)
        sections.append(Section(
            "Per-task difference in solve rate",
            notes=[f"Harnessed minus plain, in percentage points, with Newcombe's 95% interval; Fisher exact "
                   f"p = {_num(c.fisher_p)} (the smallest these sample sizes allow: {_num(c.fisher_min_p)})."],
            svg=plots.forest([row], xlabel="solve rate difference (points, harnessed − plain)"),
            table=Table(["task", "difference", "95% CI"], [[task, f"{row.estimate:+.0f} points", _ci([lo, hi], 100)]]),
        ))  # fmt: skip
    shifts = [(n, t) for n, t in (("attempt seconds", c.cumulative_attempt_duration), ("score", c.score),
                                  ("post score", c.post_score)) if t is not None]  # fmt: skip
    rows = [r for r in (_shift_row(n, t) for n, t in shifts) if r is not None]
    if shifts:
        sections.append(Section(
            "Differences in time and score",
            notes=["Median difference (harnessed − plain) with a seeded bootstrap 95% interval; Mann–Whitney p."],
            svg=plots.forest(rows, xlabel="median difference (harnessed − plain)") if rows else None,
            table=Table(["measure", "median difference", "95% CI", "Hodges–Lehmann", "p", "favours"],
                        [[n, f"{t.median_difference:+.4g}", _ci(t.median_difference_ci), f"{t.hodges_lehmann:+.4g}",
                          f"{t.p:.3g} ({t.method})", t.favours] for n, t in shifts]),
        ))  # fmt: skip
    sections.append(Section("Arms", table=Table(
        ["arm", "valid", "solved", "solve rate", "95% CI", "median attempt", "median score", "MCP calls", "cost"],
        [_group_row(report.harnessed), _group_row(report.plain)])))  # fmt: skip
    return sections


def _runner(runner: Any) -> str:
    return f" ({runner})" if runner else ""


def _or_dash(value: Any) -> str:
    """A table cell: ``-`` for what is not there (a leave-one-out arm has no runner of its own), never "None"."""
    return "-" if value is None else str(value)


def difference_label(d: dict[str, Any]) -> str:
    """A per-task difference's name in the forest plot: ``alpha · harnessed vs -probe (claude)``."""
    return f"{d.get('task')} · {d.get('treated')} vs {arm_label(str(d.get('control')))}{_runner(d.get('runner'))}"


def _effect_cells(effect: dict[str, Any]) -> list[str]:
    """The mean difference and its interval: solve rates in points, as everywhere else on the page."""
    mean = effect.get("mean_difference")
    if effect.get("measure") == "solve_rate" and isinstance(mean, int | float):
        return [f"{mean * 100:+.3g} points", _ci(effect.get("ci"), 100)]
    return [_num(mean), _ci(effect.get("ci"))]


def _suite(suite: dict[str, Any]) -> list[Section]:
    sections: list[Section] = []
    diffs = [d for d in suite.get("differences") or [] if isinstance(d, dict)]
    if diffs:
        rows = [plots.Interval(difference_label(d), float(d["solve_rate_difference"]) * 100,
                               float(d["solve_rate_ci"][0]) * 100, float(d["solve_rate_ci"][1]) * 100)
                for d in diffs]  # fmt: skip
        sections.append(Section(
            "Per-task paired differences in solve rate",
            notes=["Treated minus control per task, in percentage points, with Newcombe's 95% interval."],
            svg=plots.forest(rows, xlabel="solve rate difference (points)"),
            table=Table(["task", "runner", "treated − control", "difference", "95% CI", "score difference", "change"],
                        [[str(d.get("task")), _or_dash(d.get("runner")), f"{d.get('treated')} − {d.get('control')}",
                          f"{float(d['solve_rate_difference']) * 100:+.0f} points", _ci(d.get("solve_rate_ci"), 100),
                          _num(d.get("score_difference")), str(d.get("change"))] for d in diffs]),
        ))  # fmt: skip
    effects = [e for e in suite.get("effects") or [] if isinstance(e, dict)]
    if effects:
        sections.append(Section("Across tasks", table=Table(
            ["measure", "runner", "treated − control", "mean difference", "95% CI", "p", "improved/regressed/same"],
            [[str(e.get("measure")), _or_dash(e.get("runner")), f"{e.get('treated')} − {e.get('control')}",
              *_effect_cells(e), _num(e.get("p")),
              f"{e.get('improved')}/{e.get('regressed')}/{e.get('unchanged')}"] for e in effects])))  # fmt: skip
    arms = [a for a in suite.get("arms") or [] if isinstance(a, dict)]
    if arms:
        sections.append(Section("Arms", table=Table(
            ["arm", "runner", "valid", "solved", "solve rate", "tool use", "median attempt", "cost", "cost / solve"],
            [[str(a.get("arm")), _or_dash(a.get("runner")), f"{a.get('n_valid')}/{a.get('n_trials')}",
              str(a.get("solved")),
              _pct(a.get("solve_rate")), _pct(a.get("tool_use_rate")), _num(a.get("median_attempt_seconds"), " s"),
              _num(a.get("cost_usd")), _num(a.get("cost_per_solved_task"))] for a in arms])))  # fmt: skip
    artifacts = [a for a in suite.get("artifacts") or [] if isinstance(a, dict) and isinstance(a.get("effect"), dict)]
    if artifacts:
        rows = [plots.Interval(str(a.get("artifact")), float(a["effect"]["mean_difference"]) * 100,
                               float(a["effect"]["ci"][0]) * 100, float(a["effect"]["ci"][1]) * 100)
                for a in artifacts]  # fmt: skip
        sections.append(Section(
            "Leave-one-out effect of each artifact",
            notes=["Harnessed minus the arm without the artifact, on the solve rate (points): above zero, removing "
                   "it lost solves."],
            svg=plots.forest(rows, xlabel="solve rate lost without it (points)"),
            table=Table(["artifact", "runner", "effect", "95% CI", "suggestion", "why"],
                        [[str(a.get("artifact")), _or_dash(a.get("runner")), f"{r.estimate:+.0f} points",
                          f"{r.low:+.0f} to {r.high:+.0f}", str(a.get("suggestion")), str(a.get("reason", ""))]
                         for a, r in zip(artifacts, rows, strict=True)]),
        ))  # fmt: skip
    return sections


def compare_page(out: Path, report: CompareReport) -> Page:
    config = report.config
    if config.suite is not None:
        task = config.suite.name
    else:
        task = config.task_path.stem if config.task_path is not None else "task"
    v = report.verdict
    facts = [("Comparison", str(out)), ("Status", report.status), ("Verdict", f"{v.outcome}: {v.headline}"),
             ("Trials", f"{len(report.trials)} of {len(report.order)}"), ("Runner", config.runner)]  # fmt: skip
    dumped = report.model_dump(mode="json")
    suite = dumped.get("suite")
    sections = _suite(suite) if isinstance(suite, dict) else _two_group(report, task)
    if not isinstance(suite, dict) or not suite.get("artifacts"):
        sections.append(Section("Leave-one-out effect of each artifact", notes=[
            "This comparison has no leave-one-out arms, so no artifact's own effect was measured; the harnessed "
            "arm's difference above is that of all its artifacts together."]))  # fmt: skip
    if v.notes:
        sections.append(Section("Notes on the verdict", notes=list(v.notes)))
    trials = [[t.group, str(t.index), str(t.position), "yes" if t.valid else f"no ({t.invalid_kind})",
               "yes" if t.solved else "no", _num(t.cumulative_attempt_duration_seconds, " s"), _num(t.score),
               str(t.mcp_call_count)] for t in sorted(report.trials, key=lambda t: t.position)]  # fmt: skip
    sections.append(
        Section(
            "Trials", table=Table(["arm", "trial", "order", "valid", "solved", "attempt", "score", "MCP calls"], trials)
        )
    )
    return Page(f"harnessgym compare: {task}", facts, sections)
