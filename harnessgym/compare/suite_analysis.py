"""From trial records to the comparison across tasks, arms and runners, and its verdict. Pure: no I/O.

Only valid trials count (an ``infra_error`` is never a failure of the task). The verdict of a suite follows
one outcome declared before any trial ran: the mean per-task difference in solve rate, harnessed minus plain,
under the first runner, tested by the sign-flip permutation test over tasks.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from harnessgym.compare import stats, suite_stats
from harnessgym.compare.models import CompareVerdict, TrialRecord
from harnessgym.compare.spec import TaskSpec
from harnessgym.compare.suite_models import ArmSummary, ArtifactEffect, SuiteAnalysis, SuiteEffect, TaskDifference
from harnessgym.compare.suite_stats import TaskOutcomes

__all__ = ["METHODS", "analyse_suite", "suite_verdict"]

METHODS = [
    "Per task: solve-rate difference (treated − control) with Newcombe's hybrid score 95% interval; score "
    "difference of the means with a seeded percentile bootstrap 95% interval (each arm resampled on its own).",
    "Suite estimate: the mean over tasks of the per-task differences (each task weighs the same); scores are "
    "oriented so that a positive difference is better.",
    "Suite interval: seeded percentile bootstrap 95% interval, resampling tasks with replacement and then each "
    "arm's trials within each drawn task (hierarchical).",
    "Suite p: two-sided sign-flip permutation test over tasks (exact up to 16 tasks, else seeded Monte Carlo, "
    "p = (1 + hits) / (1 + draws)).",
    "Improved / regressed / unchanged: by the task's solve-rate difference; at equal rates by its score "
    "difference in the better direction; else unchanged (descriptive, not a test per task).",
    "pass@k: the unbiased estimator 1 − C(n − c, k) / C(n, k) per task, averaged over tasks.",
    "Tasks needed: normal approximation for a two-sided one-sample test of the mean per-task difference at "
    "alpha with 80% power, n = ((z(1 − alpha/2) + z(0.8)) · sd / |mean|)², and at least the tasks the exact "
    "sign-flip test needs to reach alpha; trials needed = tasks × trials per arm now × 2 arms.",
    "Leave-one-out: harnessed minus the arm without one artifact, across tasks, as above; keep the artifact when "
    "removing it lowered the solve rate (at equal rates: the score), else retire it.",
    "Infrastructure errors (the CLI crashed or could not reach its model, a worker died, a timeout before the "
    "first event) are retried and never counted; budget-stopped trials did not run.",
]


@dataclass(frozen=True)
class _Cell:
    """The valid trials of one task, runner and arm."""

    solved: tuple[float, ...]
    scores: tuple[float, ...]


def _orient(value: float, spec: TaskSpec) -> float:
    return value if spec.higher_is_better else -value


def _cells(records: Sequence[TrialRecord], specs: dict[str, TaskSpec]) -> dict[tuple[str, str, str], _Cell]:
    grouped: dict[tuple[str, str, str], list[TrialRecord]] = {}
    for r in records:
        if r.valid and r.task in specs:
            grouped.setdefault((r.task, r.runner, r.arm_name), []).append(r)
    return {
        key: _Cell(
            solved=tuple(float(t.solved) for t in trials),
            scores=tuple(_orient(s, specs[key[0]]) for t in trials if (s := _score(t)) is not None),
        )
        for key, trials in grouped.items()
    }


def _score(t: TrialRecord) -> float | None:
    return t.post_score if t.post_score is not None else t.score


def _change(rate_diff: float, score_diff: float | None) -> str:
    if rate_diff > 0 or (rate_diff == 0 and score_diff is not None and score_diff > 0):
        return "improved"
    if rate_diff < 0 or (rate_diff == 0 and score_diff is not None and score_diff < 0):
        return "regressed"
    return "unchanged"


def _difference(task: str, runner: str, treated: str, control: str, a: _Cell, b: _Cell, seed: int) -> TaskDifference:
    k1, n1, k2, n2 = int(sum(a.solved)), len(a.solved), int(sum(b.solved)), len(b.solved)
    rate_diff = k1 / n1 - k2 / n2
    score_diff = score_ci = None
    if a.scores and b.scores:
        score_diff = statistics.fmean(a.scores) - statistics.fmean(b.scores)
        score_ci = _bootstrap_mean_difference(a.scores, b.scores, seed)
    return TaskDifference(
        task=task, runner=runner, treated=treated, control=control, n_treated=n1, n_control=n2,
        solve_rate_treated=k1 / n1, solve_rate_control=k2 / n2, solve_rate_difference=rate_diff,
        solve_rate_ci=stats.newcombe_interval(k1, n1, k2, n2), score_difference=score_diff, score_ci=score_ci,
        change=_change(rate_diff, score_diff),  # type: ignore[arg-type]
    )  # fmt: skip


def _bootstrap_mean_difference(x: Sequence[float], y: Sequence[float], seed: int) -> tuple[float, float]:
    task = TaskOutcomes("", tuple(x), tuple(y))
    return suite_stats.hierarchical_bootstrap([task], seed=seed, resamples=2000)


def _effect(
    measure: str, runner: str, treated: str, control: str, pairs: list[tuple[_Cell, _Cell, TaskDifference]],
    *, alpha: float, seed: int, resamples: int,
) -> SuiteEffect | None:  # fmt: skip
    if measure == "solve_rate":
        tasks = [TaskOutcomes(d.task, a.solved, b.solved) for a, b, d in pairs]
    else:
        tasks = [TaskOutcomes(d.task, a.scores, b.scores) for a, b, d in pairs if a.scores and b.scores]
    if not tasks:
        return None
    diffs = [suite_stats.task_difference(t) for t in tasks]
    p, method = suite_stats.sign_flip_p(diffs, seed=seed)
    needed = suite_stats.tasks_needed(diffs, alpha=alpha)
    per_arm = max(len(t.treated) for t in tasks)
    changes = Counter(d.change for _, _, d in pairs) if measure == "solve_rate" else Counter(
        "improved" if x > 0 else "regressed" if x < 0 else "unchanged" for x in diffs)  # fmt: skip
    return SuiteEffect(
        measure=measure, runner=runner, treated=treated, control=control, n_tasks=len(tasks),  # type: ignore[arg-type]
        mean_difference=statistics.fmean(diffs),
        ci=suite_stats.hierarchical_bootstrap(tasks, seed=seed, resamples=resamples),
        p=p, p_method=method, improved=changes["improved"], regressed=changes["regressed"],  # type: ignore[arg-type]
        unchanged=changes["unchanged"], tasks_needed=needed,
        trials_needed=needed * per_arm * 2 if needed is not None else None,
    )  # fmt: skip


def _arm(arm: str, runner: str, records: Sequence[TrialRecord], cells: dict[tuple[str, str, str], _Cell]) -> ArmSummary:
    mine = [r for r in records if r.arm_name == arm and r.runner == runner]
    valid = [r for r in mine if r.valid]
    per_task = [c for (_, rn, a), c in cells.items() if a == arm and rn == runner]
    pass_k: dict[int, float] = {}
    for k in range(1, max((len(c.solved) for c in per_task), default=0) + 1):
        values = [suite_stats.pass_at_k(len(c.solved), int(sum(c.solved)), k) for c in per_task if len(c.solved) >= k]
        pass_k[k] = statistics.fmean(values)
    costs = [r.cost_usd for r in valid if r.cost_usd is not None]
    times = [r.cumulative_attempt_duration_seconds for r in valid if r.cumulative_attempt_duration_seconds is not None]
    solved = sum(r.solved for r in valid)
    all_costs = [r.cost_usd for r in mine if r.cost_usd is not None]
    return ArmSummary(
        arm=arm, runner=runner, n_trials=len(mine), n_valid=len(valid),
        infra_errors=sum(r.invalid_kind == "infra_error" for r in mine),
        invalid_reasons=dict(Counter(r.invalid_kind or "unknown" for r in mine if not r.valid)), solved=solved,
        solve_rate=statistics.fmean(statistics.fmean(c.solved) for c in per_task) if per_task else None,
        pass_at_k=pass_k,
        tool_use_rate=(sum(r.mcp_call_count > 0 for r in valid) / len(valid)) if valid and arm != "plain" else None,
        median_attempt_seconds=statistics.median(times) if times else None,
        median_cost_usd=statistics.median(costs) if costs else None,
        cost_usd=sum(all_costs) if all_costs else None,
        cost_per_solved_task=sum(costs) / solved if costs and solved else None,
    )  # fmt: skip


def analyse_suite(
    records: Sequence[TrialRecord],
    specs: dict[str, TaskSpec],
    runners: Sequence[str],
    arms: Sequence[str],
    *,
    alpha: float,
    seed: int,
    resamples: int = 2000,
) -> SuiteAnalysis:
    """``specs`` by the task label the records carry; ``runners`` by their record label; ``arms`` every arm
    planned (``plain``, ``harnessed``, ``minus:<id>`` ...)."""
    cells = _cells(records, specs)
    differences: list[TaskDifference] = []
    effects: list[SuiteEffect] = []
    artifacts: list[ArtifactEffect] = []
    shared = {"alpha": alpha, "seed": seed, "resamples": resamples}
    for runner in runners:
        for control in [a for a in arms if a != "harnessed"]:
            pairs = []
            for task in specs:
                a, b = cells.get((task, runner, "harnessed")), cells.get((task, runner, control))
                if a is not None and b is not None:
                    pairs.append((a, b, _difference(task, runner, "harnessed", control, a, b, seed)))
            differences += [d for _, _, d in pairs]
            rate = _effect("solve_rate", runner, "harnessed", control, pairs, **shared)  # type: ignore[arg-type]
            score = _effect("score", runner, "harnessed", control, pairs, **shared)  # type: ignore[arg-type]
            if control == "plain":
                effects += [e for e in (rate, score) if e is not None]
            elif rate is not None:
                artifacts.append(_artifact(control.removeprefix("minus:"), runner, rate, score))
    return SuiteAnalysis(
        tasks=list(specs), runners=list(runners), arms=[_arm(a, r, records, cells) for r in runners for a in arms],
        differences=differences, effects=effects, artifacts=artifacts, methods=METHODS,
    )  # fmt: skip


def _artifact(artifact: str, runner: str, rate: SuiteEffect, score: SuiteEffect | None) -> ArtifactEffect:
    lost = rate.mean_difference > 0 or (rate.mean_difference == 0 and score is not None and score.mean_difference > 0)
    pts = f"{rate.mean_difference * 100:+.0f} points of solve rate"
    if lost:
        reason = f"without it the solve rate drops: harnessed minus leave-one-out {pts} (sign-flip p = {rate.p:.3g})"
    else:
        reason = f"removing it costs nothing measurable: harnessed minus leave-one-out {pts} (p = {rate.p:.3g})"
    return ArtifactEffect(artifact=artifact, runner=runner, effect=rate, suggestion="keep" if lost else "retire",
                          reason=reason)  # fmt: skip


def suite_verdict(analysis: SuiteAnalysis, alpha: float) -> CompareVerdict:
    """The verdict of a suite from its pre-declared primary outcome (see the module docstring)."""
    primary = next((e for e in analysis.effects if e.measure == "solve_rate"), None)
    if primary is None:
        why = "No comparison is possible: no task has valid plain and harnessed trials."
        return CompareVerdict(outcome="insufficient_data", alpha=alpha, headline=why)
    lo, hi = primary.ci
    numbers = (f"mean per-task solve-rate difference {primary.mean_difference * 100:+.0f} points over "
               f"{primary.n_tasks} task(s) (hierarchical bootstrap 95% CI {lo * 100:+.0f} to {hi * 100:+.0f}; "
               f"sign-flip {primary.p_method} p = {primary.p:.3g}, alpha {alpha:g}; improved {primary.improved}, "
               f"regressed {primary.regressed}, unchanged {primary.unchanged})")  # fmt: skip
    significant = primary.p < alpha
    outcome = ("helped" if significant and primary.mean_difference > 0 else
               "hurt" if significant and primary.mean_difference < 0 else "no_detectable_difference")  # fmt: skip
    head = {"helped": "The harness helped", "hurt": "The harness hurt",
            "no_detectable_difference": "No detectable difference"}[outcome]  # fmt: skip
    notes = []
    smallest = suite_stats.min_tasks_for_sign_flip(alpha)
    if primary.n_tasks < smallest:
        least = 2 / 2**primary.n_tasks
        notes.append(f"With {primary.n_tasks} task(s) the sign-flip test cannot reach p < {alpha:g} whatever the "
                     f"outcome (smallest p {least:.3g}); it takes at least {smallest} tasks.")  # fmt: skip
    if primary.tasks_needed is not None:
        notes.append(f"Detecting the observed effect with 80% power at alpha {alpha:g} would take about "
                     f"{primary.tasks_needed} tasks ({primary.trials_needed} trials).")  # fmt: skip
    return CompareVerdict(outcome=outcome, primary="solve_rate", p=primary.p, alpha=alpha,
                          headline=f"{head} across the suite on solve rate: {numbers}.", notes=notes)  # fmt: skip
