"""The statistics across a task suite, checked against examples worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from harnessgym.compare.models import TrialRecord
from harnessgym.compare.spec import TaskSpec
from harnessgym.compare.suite_analysis import analyse_suite, suite_verdict
from harnessgym.compare.suite_stats import (
    TaskOutcomes,
    hierarchical_bootstrap,
    mean_difference,
    min_tasks_for_sign_flip,
    pass_at_k,
    sign_flip_p,
    tasks_needed,
)

# Three tasks; every trial of an arm within a task has the same outcome, so resampling trials changes nothing
# and the bootstrap distribution is that of the mean of three draws (with replacement) from d = (1, 1, 0).
HAND = [
    TaskOutcomes("a", treated=(1.0, 1.0), control=(0.0, 0.0)),  # d = 1
    TaskOutcomes("b", treated=(1.0, 1.0), control=(0.0, 0.0)),  # d = 1
    TaskOutcomes("c", treated=(1.0, 1.0), control=(1.0, 1.0)),  # d = 0
]


def test_the_suite_estimate_interval_and_p_match_the_hand_computed_example() -> None:
    # Estimate: (1 + 1 + 0) / 3.
    assert mean_difference(HAND) == pytest.approx(2 / 3)
    # Sign flips: the 8 assignments give |sum| = 2 for (+,+,±) and (−,−,±), 0 for the 4 others: p = 4/8.
    assert sign_flip_p([1.0, 1.0, 0.0], seed=0) == (0.5, "exact")
    # Bootstrap: P(mean = 0) = (1/3)³ = 1/27 ≈ 0.037 ≥ 0.025, so the 2.5% quantile is 0; P(mean ≤ 2/3) = 19/27 ≈
    # 0.70 < 0.975, so the 97.5% quantile is 1.
    assert hierarchical_bootstrap(HAND, seed=7, resamples=20_000) == (0.0, 1.0)
    # Tasks needed: sd(1, 1, 0) = √(1/3); ((1.95996 + 0.84162) · √(1/3) / (2/3))² = 5.89 → 6, which is also the
    # fewest tasks the exact sign-flip test needs to reach 0.05 (2 / 2⁶ = 0.031 < 0.05 ≤ 2 / 2⁵).
    assert min_tasks_for_sign_flip(0.05) == 6
    assert tasks_needed([1.0, 1.0, 0.0], alpha=0.05) == 6
    # Ten +1 and nine −1: mean 1/19, sample variance (19 − 19/361) / 18 = 20/19, so n = 7.8489 · (20/19) · 19²
    # = 2982.6 → 2983.
    assert tasks_needed([1.0] * 10 + [-1.0] * 9, alpha=0.05) == 2983


def test_the_bootstrap_resamples_trials_within_tasks_too() -> None:
    # One task, treated (1, 0) and control (0, 0): only the treated trials vary. Their resampled mean is 0, 1/2 or
    # 1 with probabilities 1/4, 1/2, 1/4, so the interval is (0, 1); resampling only tasks would give (1/2, 1/2).
    one = [TaskOutcomes("a", treated=(1.0, 0.0), control=(0.0, 0.0))]
    assert hierarchical_bootstrap(one, seed=1, resamples=4000) == (0.0, 1.0)
    assert hierarchical_bootstrap(one, seed=1) == hierarchical_bootstrap(one, seed=1)  # seeded


def test_many_tasks_use_a_seeded_monte_carlo_sign_flip() -> None:
    p, method = sign_flip_p([1.0] * 20, seed=3, resamples=2000)
    # Only the all-plus and all-minus of 2^20 assignments reach the observed sum: almost surely no hit in 2000.
    assert method == "monte_carlo" and p == pytest.approx(1 / 2001)
    assert sign_flip_p([0.3, -0.2] * 10, seed=3) == sign_flip_p([0.3, -0.2] * 10, seed=3)


def test_pass_at_k_is_the_unbiased_estimator() -> None:
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)  # 1 − C(3,2)/C(5,2)
    assert pass_at_k(5, 0, 3) == 0.0 and pass_at_k(5, 3, 3) == 1.0 and pass_at_k(4, 1, 1) == 0.25
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def _records(task: str, arm: str, outcomes: list[bool], *, infra: int = 0) -> list[TrialRecord]:
    group = "plain" if arm == "plain" else "harnessed"
    made = [TrialRecord(group=group, index=i + 1, task=task, arm="" if arm in ("plain", "harnessed") else arm,
                        workspace=Path("/x"), run_id="r", solved=s, cumulative_attempt_duration_seconds=10.0 + i,
                        cost_usd=0.25) for i, s in enumerate(outcomes)]  # fmt: skip
    made += [TrialRecord(group=group, index=len(outcomes) + j + 1, task=task, workspace=Path("/x"), run_id="r",
                         valid=False, invalid_kind="infra_error") for j in range(infra)]  # fmt: skip
    return made


def test_the_suite_report_follows_the_hand_example_and_sets_infra_errors_aside() -> None:
    spec = TaskSpec(name="t", workspace_template=Path("/t"), task_text="x", verify_command="true")
    specs = {n: spec.model_copy(update={"name": n}) for n in ("a", "b", "c")}
    records = [
        *_records("a", "harnessed", [True, True]), *_records("a", "plain", [False, False], infra=3),
        *_records("b", "harnessed", [True, True]), *_records("b", "plain", [False, False]),
        *_records("c", "harnessed", [True, True]), *_records("c", "plain", [True, True]),
        *_records("a", "minus:tool:x", [False, False]), *_records("b", "minus:tool:x", [False, False]),
        *_records("c", "minus:tool:x", [True, True]),
    ]  # fmt: skip
    suite = analyse_suite(records, specs, [""], ["plain", "harnessed", "minus:tool:x"], alpha=0.05, seed=7,
                          resamples=20_000)  # fmt: skip
    rate = next(e for e in suite.effects if e.measure == "solve_rate")
    assert (rate.mean_difference, rate.ci, rate.p, rate.p_method) == (pytest.approx(2 / 3), (0.0, 1.0), 0.5, "exact")
    assert (rate.improved, rate.regressed, rate.unchanged, rate.tasks_needed, rate.trials_needed) == (2, 0, 1, 6, 24)
    plain = next(a for a in suite.arms if a.arm == "plain")
    assert (plain.n_trials, plain.n_valid, plain.infra_errors, plain.solved) == (9, 6, 3, 2)
    assert plain.solve_rate == pytest.approx(1 / 3)
    assert plain.pass_at_k == {1: pytest.approx(1 / 3), 2: pytest.approx(1 / 3)}
    assert plain.cost_per_solved_task == pytest.approx(6 * 0.25 / 2) and plain.median_attempt_seconds == 10.5
    (artifact,) = suite.artifacts
    assert (artifact.artifact, artifact.suggestion) == ("tool:x", "keep")
    assert artifact.effect.mean_difference == pytest.approx(2 / 3)
    verdict = suite_verdict(suite, 0.05)
    assert verdict.outcome == "no_detectable_difference" and verdict.p == 0.5
    assert "it takes at least 6 tasks" in " ".join(verdict.notes)
