"""From trial records to group summaries, tests and a verdict. Pure: no I/O.

The verdict follows one outcome declared before any trial ran, so that looking at several measures cannot
turn noise into a finding: the solve rate (Fisher's exact test); only when both groups solved all or none of
their valid trials, which leaves the solve rate nothing to say, the post command's score when a post command
is configured (Mann–Whitney, in the score's direction), else the cumulative attempt duration (Mann–Whitney,
shorter is better). Everything else (verify score, last attempt duration) is reported as description. Invalid
trials never enter a test; they are counted and their reasons listed. A post measurement that failed has no
score: such trials stay in the solve rate but not in the post score test, and each group says how many.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal

from harnessgym.compare import stats
from harnessgym.compare.models import (
    CompareVerdict,
    Comparison,
    Distribution,
    Group,
    GroupSummary,
    ShiftTest,
    TrialRecord,
)

__all__ = ["analyse", "summarize_group"]

Measure = Literal["cumulative_attempt_duration", "attempt_duration", "score", "post_score"]
_N_LIMIT = 10_000
_BOUND = 1e300
"""Values are counted within ±this, so no sum, mean or difference of them overflows a float (a post command may
print 1e308, whose double is infinite: it would crash the mean, or be written to the report as null)."""


def _distribution(values: Sequence[float]) -> Distribution | None:
    if not values:
        return None
    return Distribution(n=len(values), median=statistics.median(values), mean=statistics.fmean(values),
                        min=min(values), max=max(values))  # fmt: skip


def _values(trials: Sequence[TrialRecord], measure: Measure) -> list[float]:
    get: dict[Measure, Callable[[TrialRecord], float | None]] = {
        "cumulative_attempt_duration": lambda t: t.cumulative_attempt_duration_seconds,
        "attempt_duration": lambda t: t.attempt_duration_seconds,
        "score": lambda t: t.score,
        "post_score": lambda t: t.post_score,
    }
    return [max(-_BOUND, min(_BOUND, v)) for v in (get[measure](t) for t in trials if t.valid) if v is not None]


def summarize_group(group: Group, trials: Sequence[TrialRecord]) -> GroupSummary:
    mine = [t for t in trials if t.group == group]
    valid = [t for t in mine if t.valid]
    solved = sum(t.solved for t in valid)
    costs = [t.cost_usd for t in valid if t.cost_usd is not None]
    return GroupSummary(
        group=group,
        n_trials=len(mine),
        n_valid=len(valid),
        n_invalid=len(mine) - len(valid),
        invalid_reasons=dict(Counter(t.invalid_kind or "unknown" for t in mine if not t.valid)),
        solved=solved,
        solve_rate=solved / len(valid) if valid else None,
        solve_rate_ci=stats.wilson_interval(solved, len(valid)) if valid else None,
        attempt_duration=_distribution(_values(valid, "attempt_duration")),
        cumulative_attempt_duration=_distribution(_values(valid, "cumulative_attempt_duration")),
        score=_distribution(_values(valid, "score")),
        post_score=_distribution(_values(valid, "post_score")),
        post_unmeasured=sum(t.post is not None and t.post_score is None for t in valid),
        mcp_call_count=sum(t.mcp_call_count for t in valid),
        mcp_tools_called=sorted({name for t in valid for name in t.mcp_tools_called}),
        cost_usd=sum(costs) if costs else None,
    )


def _shift(
    trials: Sequence[TrialRecord], measure: Measure, *, higher_is_better: bool, seed: int, resamples: int
) -> ShiftTest | None:
    harnessed = _values([t for t in trials if t.group == "harnessed"], measure)
    plain = _values([t for t in trials if t.group == "plain"], measure)
    test = stats.mann_whitney(harnessed, plain)
    shift = stats.hodges_lehmann(harnessed, plain)
    if test is None or shift is None:
        return None
    favours: Literal["harnessed", "plain", "neither"] = "neither"
    if test.prob_x_greater != 0.5:
        harnessed_higher = test.prob_x_greater > 0.5
        favours = "harnessed" if harnessed_higher == higher_is_better else "plain"
    return ShiftTest(
        measure=measure,
        n_harnessed=len(harnessed),
        n_plain=len(plain),
        better="higher" if higher_is_better else "lower",
        median_difference=statistics.median(harnessed) - statistics.median(plain),
        median_difference_ci=stats.bootstrap_median_difference(harnessed, plain, seed=seed, resamples=resamples),
        hodges_lehmann=shift,
        mann_whitney_u=test.u,
        p=test.p,
        method="exact" if test.method == "exact" else "normal",
        min_p=stats.mann_whitney_min_p(len(harnessed), len(plain)),
        favours=favours,
    )


def _compare(
    trials: Sequence[TrialRecord],
    plain: GroupSummary,
    harnessed: GroupSummary,
    *,
    higher_is_better: bool,
    seed: int,
    resamples: int,
) -> Comparison:
    comparison = Comparison()
    if plain.n_valid and harnessed.n_valid:
        k1, n1, k2, n2 = harnessed.solved, harnessed.n_valid, plain.solved, plain.n_valid
        comparison.solve_rate_difference = k1 / n1 - k2 / n2
        comparison.solve_rate_difference_ci = stats.newcombe_interval(k1, n1, k2, n2)
        comparison.fisher_p = stats.fisher_exact(k1, n1, k2, n2)
        comparison.fisher_min_p = stats.fisher_min_p(n1, n2)
    shared = {"seed": seed, "resamples": resamples}
    comparison.cumulative_attempt_duration = _shift(trials, "cumulative_attempt_duration", higher_is_better=False,
                                                    **shared)  # fmt: skip
    comparison.attempt_duration = _shift(trials, "attempt_duration", higher_is_better=False, **shared)
    comparison.score = _shift(trials, "score", higher_is_better=higher_is_better, **shared)
    comparison.post_score = _shift(trials, "post_score", higher_is_better=higher_is_better, **shared)
    return comparison


def _smallest_n(min_p: Callable[[int], float], alpha: float) -> int | None:
    """The fewest trials per group for which the most extreme outcome reaches p < alpha."""
    n = 1
    while n <= _N_LIMIT:
        if min_p(n) < alpha:
            return n
        n = n + 1 if n < 200 else n * 2
    return None


def _pts(x: float) -> str:
    return f"{x * 100:+.0f} points"


def _sizes(plain: GroupSummary, harnessed: GroupSummary) -> str:
    return f"n = {harnessed.n_valid} harnessed vs {plain.n_valid} plain valid trials"


def _power_notes(
    *,
    min_p: float,
    smallest: int | None,
    needed: int | None,
    alpha: float,
    test: str,
    effect: str,
    plain: GroupSummary,
    harnessed: GroupSummary,
) -> list[str]:
    notes: list[str] = []
    if min_p >= alpha:
        notes.append(
            f"With {harnessed.n_valid} vs {plain.n_valid} valid trials no outcome can reach p < {alpha:g} with "
            f"{test}: the smallest achievable p is {min_p:.3g}"
            + (f"; it takes at least {smallest} valid trials per group." if smallest else ".")
        )
    if needed is None:
        notes.append(f"The groups show no difference ({effect}), so there is no observed effect to size a larger "
                     "comparison by.")  # fmt: skip
    else:
        n = max(needed, smallest or 0)
        notes.append(f"Detecting the observed effect ({effect}) with 80% power at alpha {alpha:g} would take "
                     f"roughly {n} valid trials per group.")  # fmt: skip
    return notes


def _why_empty(g: GroupSummary) -> str:
    if not g.n_trials:
        return f"{g.group} has no finished trial"
    reasons = ", ".join(f"{kind} ×{count}" for kind, count in sorted(g.invalid_reasons.items()))
    return f"{g.group} has no valid trial ({g.n_invalid} invalid: {reasons})"


def _decide(
    plain: GroupSummary, harnessed: GroupSummary, comparison: Comparison, alpha: float, *, post_primary: bool
) -> CompareVerdict:
    if plain.n_valid == 0 or harnessed.n_valid == 0:
        why = "; ".join(_why_empty(g) for g in (harnessed, plain) if g.n_valid == 0)
        return CompareVerdict(outcome="insufficient_data", alpha=alpha, headline=f"No comparison is possible: {why}.")
    notes = []
    invalid = plain.n_invalid + harnessed.n_invalid
    if invalid:
        notes.append(f"{invalid} invalid trial(s) were set aside and are not in any test "
                     f"(harnessed {harnessed.n_invalid}, plain {plain.n_invalid}).")  # fmt: skip
    rate_h, rate_p = harnessed.solved / harnessed.n_valid, plain.solved / plain.n_valid
    duration = comparison.cumulative_attempt_duration
    if rate_h == rate_p and rate_h in (0.0, 1.0):
        both = "all" if rate_h == 1.0 else "none"
        if post_primary:
            unmeasured = plain.post_unmeasured + harnessed.post_unmeasured
            if unmeasured:
                notes.append(f"{unmeasured} valid trial(s) have no post score (their post command failed or printed "
                             f"no number: harnessed {harnessed.post_unmeasured}, plain {plain.post_unmeasured}); "
                             "they are not in the post score test.")  # fmt: skip
            notes.insert(0, f"Both groups solved {both} of their valid trials, so the pre-declared fallback "
                            "outcome, the post command's score, decides.")  # fmt: skip
            if comparison.post_score is None:
                return CompareVerdict(outcome="insufficient_data", primary="post_score", alpha=alpha, notes=notes,
                                      headline="No comparison is possible: the post score decides, and a group "
                                               "has no trial with a measured post score.")  # fmt: skip
            return _on_shift(comparison.post_score, plain, harnessed, alpha, notes)
        if duration is not None:
            notes.insert(0, f"Both groups solved {both} of their valid trials, so the pre-declared fallback "
                            "outcome, the cumulative attempt duration (shorter is better), decides.")  # fmt: skip
            return _on_shift(duration, plain, harnessed, alpha, notes)
    return _on_solve_rate(comparison, plain, harnessed, alpha, notes)


def _on_solve_rate(
    c: Comparison, plain: GroupSummary, harnessed: GroupSummary, alpha: float, notes: list[str]
) -> CompareVerdict:
    p = c.fisher_p if c.fisher_p is not None else 1.0
    diff = c.solve_rate_difference or 0.0
    lo, hi = c.solve_rate_difference_ci or (-1.0, 1.0)
    numbers = (f"harnessed solved {harnessed.solved}/{harnessed.n_valid}, plain {plain.solved}/{plain.n_valid} "
               f"(difference {_pts(diff)}, 95% CI {lo * 100:+.0f} to {hi * 100:+.0f}; Fisher exact p = {p:.3g}, "
               f"alpha {alpha:g}; {_sizes(plain, harnessed)})")  # fmt: skip
    outcome = _outcome(p < alpha, diff > 0, diff < 0)
    if outcome == "no_detectable_difference":
        rate_h, rate_p = harnessed.solved / harnessed.n_valid, plain.solved / plain.n_valid
        notes += _power_notes(
            min_p=c.fisher_min_p or 1.0, smallest=_smallest_n(lambda n: stats.fisher_min_p(n, n), alpha),
            needed=stats.n_for_proportions(rate_h, rate_p, alpha=alpha), alpha=alpha, test="Fisher's exact test",
            effect=f"{rate_h:.0%} vs {rate_p:.0%} solved", plain=plain, harnessed=harnessed,
        )  # fmt: skip
    return CompareVerdict(outcome=outcome, primary="solve_rate", p=p, alpha=alpha,
                          headline=f"{_HEAD[outcome]} on solve rate: {numbers}.", notes=notes)  # fmt: skip


def _on_shift(
    t: ShiftTest, plain: GroupSummary, harnessed: GroupSummary, alpha: float, notes: list[str]
) -> CompareVerdict:
    """The verdict on a Mann–Whitney outcome: the cumulative attempt duration or the post score."""
    outcome = _outcome(t.p < alpha, t.favours == "harnessed", t.favours == "plain")
    ci = t.median_difference_ci
    if t.measure == "post_score":
        unit, name, higher = "", "post score", "higher"
        sizes = f"n = {t.n_harnessed} harnessed vs {t.n_plain} plain trials with a post score"
    else:
        unit, name, higher = " s", "attempt duration", "longer"
        sizes = _sizes(plain, harnessed)
    numbers = (f"median difference {t.median_difference:+.3g}{unit}"
               + (f" (bootstrap 95% CI {ci[0]:+.3g} to {ci[1]:+.3g}{unit})" if ci else "")
               + f", Hodges–Lehmann shift {t.hodges_lehmann:+.3g}{unit}; Mann–Whitney {t.method} p = {t.p:.3g}, "
               f"alpha {alpha:g}; {sizes}")  # fmt: skip
    if outcome == "no_detectable_difference":
        prob = t.mann_whitney_u / (t.n_harnessed * t.n_plain)
        notes += _power_notes(
            min_p=t.min_p, smallest=_smallest_n(lambda n: stats.mann_whitney_min_p(n, n), alpha),
            needed=stats.n_for_shift(prob, alpha=alpha), alpha=alpha, test="the Mann–Whitney test",
            effect=f"P(harnessed {higher}) = {prob:.2f}", plain=plain, harnessed=harnessed,
        )  # fmt: skip
    primary: Literal["cumulative_attempt_duration", "post_score"] = (
        "post_score" if t.measure == "post_score" else "cumulative_attempt_duration"
    )
    return CompareVerdict(outcome=outcome, primary=primary, p=t.p, alpha=alpha,
                          headline=f"{_HEAD[outcome]} on {name}: {numbers}.", notes=notes)  # fmt: skip


_HEAD = {
    "helped": "The harness helped",
    "hurt": "The harness hurt",
    "no_detectable_difference": "No detectable difference",
}


def _outcome(
    significant: bool, for_harness: bool, against: bool
) -> Literal["helped", "hurt", "no_detectable_difference"]:
    if significant and for_harness:
        return "helped"
    if significant and against:
        return "hurt"
    return "no_detectable_difference"


def analyse(
    trials: Sequence[TrialRecord],
    *,
    alpha: float,
    higher_is_better: bool,
    seed: int,
    resamples: int = 2000,
    post_primary: bool = False,
) -> tuple[GroupSummary, GroupSummary, Comparison, CompareVerdict]:
    """Plain and harnessed summaries, the tests between them, and the verdict. ``post_primary`` (a post command
    is configured) makes the post score the fallback outcome instead of the attempt duration."""
    plain, harnessed = summarize_group("plain", trials), summarize_group("harnessed", trials)
    comparison = _compare(trials, plain, harnessed, higher_is_better=higher_is_better, seed=seed,
                          resamples=resamples)  # fmt: skip
    return plain, harnessed, comparison, _decide(plain, harnessed, comparison, alpha, post_primary=post_primary)
