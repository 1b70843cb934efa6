"""The printed form of a comparison across tasks, arms and runners: arms, per-task differences, the suite-level
effects, the leave-one-out effect of each artifact, and the methods."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from harnessgym.compare.suite_models import SuiteAnalysis, SuiteEffect
from harnessgym.store.bundle import MCP_MANIFEST_NAMES

__all__ = ["print_suite"]


def _num(x: float | None, fmt: str = ".3g") -> str:
    return "-" if x is None else format(x, fmt)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.0f}%"


def _runner(name: str) -> str:
    return f" [{name}]" if name else ""


def effect_line(e: SuiteEffect) -> str:
    """One suite-level effect in words."""
    unit = 100 if e.measure == "solve_rate" else 1
    what = "solve rate (points)" if e.measure == "solve_rate" else "score (positive is better)"
    needed = f"; ~{e.tasks_needed} tasks ({e.trials_needed} trials) to detect it" if e.tasks_needed else ""
    return (
        f"{e.treated} − {e.control}{_runner(e.runner)}, {what}: {e.mean_difference * unit:+.3g} over {e.n_tasks} "
        f"task(s), 95% CI {e.ci[0] * unit:+.3g} to {e.ci[1] * unit:+.3g} (hierarchical bootstrap); sign-flip "
        f"{e.p_method} p = {e.p:.3g}; improved {e.improved} / regressed {e.regressed} / unchanged {e.unchanged}"
        f"{needed}"
    )


def arm_label(arm: str) -> str:
    """A short name for an arm: ``-fixer.py`` for ``minus:tool:.harnessgym/tools/fixer.py``; an MCP server is
    named by its folder (``-probe`` for ``minus:mcp:.harnessgym/mcp/probe/harnessgym-mcp.json``)."""
    if not arm.startswith("minus:"):
        return arm
    parts = arm.removeprefix("minus:").split("/")
    if len(parts) > 1 and parts[-1] in MCP_MANIFEST_NAMES:
        return "-" + parts[-2]
    return "-" + parts[-1]


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def print_suite(suite: SuiteAnalysis, out: Console) -> None:
    runners = any(suite.runners)
    arms = _table("arms", ["arm", *(["runner"] if runners else []), "valid", "solved", "rate", "pass@k", "MCP use",
                           "med s", "med $", "$/solve", "infra"])  # fmt: skip
    for a in suite.arms:
        passk = " ".join(f"@{k} {v:.2f}" for k, v in sorted(a.pass_at_k.items())) or "-"
        arms.add_row(arm_label(a.arm), *([a.runner] if runners else []), f"{a.n_valid}/{a.n_trials}", str(a.solved),
                     _pct(a.solve_rate), passk, _pct(a.tool_use_rate), _num(a.median_attempt_seconds),
                     _num(a.median_cost_usd), _num(a.cost_per_solved_task), str(a.infra_errors))  # fmt: skip
    out.print(arms)
    tasks = _table("per task", ["task", *(["runner"] if runners else []), "arms", "solved", "diff (95% CI)",
                                "score diff (95% CI)", "change"])  # fmt: skip
    for d in suite.differences:
        lo, hi = d.solve_rate_ci
        ci = f"{d.solve_rate_difference * 100:+.0f} ({lo * 100:+.0f}..{hi * 100:+.0f})"
        score = "-"
        if d.score_difference is not None and d.score_ci is not None:
            score = f"{d.score_difference:+.3g} ({d.score_ci[0]:+.3g}..{d.score_ci[1]:+.3g})"
        tasks.add_row(d.task or "-", *([d.runner] if runners else []), f"{d.treated} vs {arm_label(d.control)}",
                      f"{d.solve_rate_treated:.0%}/{d.solve_rate_control:.0%}", ci, score, d.change)  # fmt: skip
    out.print(tasks)
    for e in suite.effects:
        out.print(effect_line(e))
    if suite.artifacts:
        out.print("Leave-one-out (harnessed minus harnessed without the artifact):")
        for effect in suite.artifacts:
            out.print(f"  {effect.suggestion.upper():6} {effect.artifact}{_runner(effect.runner)}: {effect.reason}")
    out.print("Methods:")
    for m in suite.methods:
        out.print(f"  - {m}")
