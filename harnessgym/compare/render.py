"""The printed form of a comparison: one compact table per group, the tests, and the verdict."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from harnessgym.compare.models import CompareReport, Distribution, GroupSummary, ShiftTest, TrialKey, TrialRecord

__all__ = ["print_report", "trial_line"]

_OUTCOME_STYLE = {"helped": "bold green", "hurt": "bold red", "no_detectable_difference": "bold yellow",
                  "insufficient_data": "bold red"}  # fmt: skip


def _median(d: Distribution | None) -> str:
    return "-" if d is None else f"{d.median:.3g}"


def _rate(g: GroupSummary) -> str:
    if g.solve_rate is None or g.solve_rate_ci is None:
        return "-"
    lo, hi = g.solve_rate_ci
    return f"{g.solve_rate * 100:.0f}% ({lo * 100:.0f}–{hi * 100:.0f})"


def _invalid(g: GroupSummary) -> str:
    if not g.n_invalid:
        return "0"
    return f"{g.n_invalid} (" + ", ".join(f"{k} ×{v}" for k, v in sorted(g.invalid_reasons.items())) + ")"


def _shift(label: str, t: ShiftTest | None, unit: str) -> str | None:
    if t is None:
        return None
    ci = t.median_difference_ci
    ci_text = f", 95% CI {ci[0]:+.3g} to {ci[1]:+.3g}" if ci else ""
    return (f"{label} (harnessed − plain, {t.better} is better): median {t.median_difference:+.3g}{unit}{ci_text}; "
            f"HL shift {t.hodges_lehmann:+.3g}{unit}; Mann–Whitney {t.method} p = {t.p:.3g} "
            f"(smallest possible {t.min_p:.3g})")  # fmt: skip


def print_report(report: CompareReport, path: object, console: Console | None = None) -> None:
    """The table, the tests and the verdict, on stdout."""
    out = console or Console(highlight=False, soft_wrap=True)
    title = f"harnessgym compare ({report.status})" + (", pooled over the tasks" if len(report.tasks) > 1 else "")
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    post = report.config.post_command is not None
    columns = ["group", "valid", "solved", "solve % (95% CI)", "median attempt s", "median score"]
    columns += ["median post score (unmeasured)"] if post else []
    for column in (*columns, "MCP calls", "invalid"):
        table.add_column(column, overflow="fold")
    for g in (report.harnessed, report.plain):
        row = [g.group, f"{g.n_valid}/{g.n_trials}", str(g.solved), _rate(g), _median(g.cumulative_attempt_duration),
               _median(g.score)]  # fmt: skip
        row += [f"{_median(g.post_score)} ({g.post_unmeasured})"] if post else []
        table.add_row(*row, str(g.mcp_call_count), _invalid(g))
    out.print(table)
    c = report.comparison
    if c.solve_rate_difference is not None and c.solve_rate_difference_ci is not None:
        lo, hi = c.solve_rate_difference_ci
        out.print(f"Solve rate (harnessed − plain): {c.solve_rate_difference * 100:+.0f} points, 95% CI "
                  f"{lo * 100:+.0f} to {hi * 100:+.0f} (Newcombe); Fisher exact p = {c.fisher_p:.3g} "
                  f"(smallest possible {c.fisher_min_p:.3g})")  # fmt: skip
    for line in (_shift("Attempt duration", c.cumulative_attempt_duration, " s"),
                 _shift("Score" if report.config.score_key == "score" else f"Score ({report.config.score_key})",
                        c.score, ""),
                 _shift(f"Post score ({report.config.post_key})", c.post_score, "")):  # fmt: skip
        if line:
            out.print(line)
    if report.suite is not None:
        from harnessgym.compare.render_suite import print_suite

        print_suite(report.suite, out)
    if report.not_run:
        spent = f"${report.spent_usd:.4g}" if report.spent_usd is not None else "the budget"
        out.print(f"[bold yellow]Budget spent ({spent} of ${report.config.budget_usd:g}): {len(report.not_run)} "
                  "planned trial(s) were not run; the same command with a larger --budget-usd runs them."
                  "[/bold yellow]")  # fmt: skip
    v = report.verdict
    style = _OUTCOME_STYLE[v.outcome]
    out.print(f"[{style}]{v.headline}[/{style}]")
    for note in v.notes:
        out.print(f"  {note}")
    out.print(f"Report: {path}")


def trial_line(key: TrialKey, position: int, total: int, record: TrialRecord | None) -> str:
    """One progress line for a trial starting (``record`` None) or ending."""
    slot = key.trial_id if key.task or key.arm or key.runner else f"{key.group} #{key.index}"
    head = f"[{position}/{total}] {slot}"
    if record is not None and record.tries > 1:
        head += f" (try {record.tries})"
    if record is None:
        return f"{head}: running"
    if not record.valid:
        return f"{head}: invalid ({record.invalid_kind}: {record.invalid_reason})"
    took = record.cumulative_attempt_duration_seconds or 0.0
    score = f", score {record.score:g}" if record.score is not None else ""
    if record.post is not None:
        score += (
            f", post score {record.post_score:g}"
            if record.post_score is not None
            else (f", post {record.post.status}{'' if record.post.passed else ' (not passed)'}")
        )
    solved = "solved (verified)" if record.solved else "not solved"
    return (
        f"{head}: {solved} in {took:.1f}s{score}, {record.active_artifact_count} active artifact(s), "
        f"{record.mcp_call_count} MCP call(s)"
    )
