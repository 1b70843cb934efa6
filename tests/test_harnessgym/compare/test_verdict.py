"""The verdict of `harnessgym compare` follows the pre-declared primary outcome, in both directions."""

from __future__ import annotations

from pathlib import Path

import pytest

from harnessgym.compare.analysis import analyse
from harnessgym.compare.models import Group, TrialRecord


def trial(group: Group, index: int, *, solved: bool, seconds: float, valid: bool = True) -> TrialRecord:
    return TrialRecord(
        group=group, index=index, workspace=Path("/nowhere"), run_id=f"compare-{group}-{index}", solved=solved,
        evidence="verified" if solved else "none", attempt_duration_seconds=seconds,
        cumulative_attempt_duration_seconds=seconds, valid=valid, invalid_kind=None if valid else "runner_failure",
    )  # fmt: skip


def verdict(trials: list[TrialRecord], alpha: float = 0.05) -> tuple[str, str | None, float | None, list[str]]:
    *_, v = analyse(trials, alpha=alpha, higher_is_better=False, seed=0)
    return v.outcome, v.primary, v.p, v.notes


def test_a_harness_that_loses_solves_is_reported_as_hurting() -> None:
    trials = [trial("plain", i, solved=True, seconds=10) for i in range(1, 5)]
    trials += [trial("harnessed", i, solved=False, seconds=10) for i in range(1, 5)]
    outcome, primary, p, notes = verdict(trials)
    assert (outcome, primary, p) == ("hurt", "solve_rate", pytest.approx(2 / 70))
    assert notes == []


def test_when_both_groups_solve_everything_the_duration_decides() -> None:
    trials = [trial("plain", i, solved=True, seconds=100 + i) for i in range(1, 5)]
    trials += [trial("harnessed", i, solved=True, seconds=10 + i) for i in range(1, 5)]
    outcome, primary, p, notes = verdict(trials)
    assert (outcome, primary, p) == ("helped", "cumulative_attempt_duration", pytest.approx(2 / 70))
    assert notes[0].startswith("Both groups solved all of their valid trials")


def test_too_few_trials_get_a_statement_of_what_n_would_be_needed() -> None:
    trials = [trial("plain", i, solved=i == 1, seconds=50) for i in range(1, 4)]
    trials += [trial("harnessed", i, solved=i < 3, seconds=50) for i in range(1, 4)]
    outcome, primary, p, notes = verdict(trials)
    assert (outcome, primary, p) == ("no_detectable_difference", "solve_rate", pytest.approx(1.0))
    assert notes == [
        "With 3 vs 3 valid trials no outcome can reach p < 0.05 with Fisher's exact test: the smallest achievable "
        "p is 0.1; it takes at least 4 valid trials per group.",
        "Detecting the observed effect (67% vs 33% solved) with 80% power at alpha 0.05 would take roughly 35 "
        "valid trials per group.",
    ]


def test_invalid_trials_are_counted_but_never_tested() -> None:
    trials = [trial("plain", i, solved=False, seconds=50) for i in range(1, 5)]
    trials += [trial("harnessed", i, solved=True, seconds=50) for i in range(1, 5)]
    trials += [trial("plain", 5, solved=True, seconds=1, valid=False)]
    plain, _, comparison, v = analyse(trials, alpha=0.05, higher_is_better=False, seed=0)
    assert (plain.n_trials, plain.n_valid, plain.solved, plain.invalid_reasons) == (5, 4, 0, {"runner_failure": 1})
    assert comparison.fisher_p == pytest.approx(2 / 70) and v.outcome == "helped"
    assert v.notes == ["1 invalid trial(s) were set aside and are not in any test (harnessed 0, plain 1)."]


def test_with_a_post_command_the_post_score_is_the_fallback_and_unmeasured_trials_are_named() -> None:
    from harnessgym.evidence.scores import Measurement

    def measured(t: TrialRecord, score: float | None) -> TrialRecord:
        post = Measurement(command="score", status="completed" if score is not None else "failed",
                           passed=score is not None, score=score)  # fmt: skip
        return t.model_copy(update={"post": post, "post_score": score})

    # Harnessed trials are slower but score higher (higher is better): the post score decides, not duration.
    trials = [measured(trial("plain", i, solved=True, seconds=10), 1.0 + i / 10) for i in range(1, 5)]
    trials += [measured(trial("harnessed", i, solved=True, seconds=90), 5.0 + i) for i in range(1, 5)]
    trials += [measured(trial("plain", 5, solved=True, seconds=10), None)]
    plain, _, comparison, v = analyse(trials, alpha=0.05, higher_is_better=True, seed=0, post_primary=True)
    assert (v.outcome, v.primary, v.p) == ("helped", "post_score", pytest.approx(2 / 70))
    assert (plain.post_unmeasured, plain.post_score and plain.post_score.n) == (1, 4)
    assert comparison.cumulative_attempt_duration is not None
    assert comparison.cumulative_attempt_duration.favours == "plain"  # described, but it does not decide
    assert any("1 valid trial(s) have no post score" in note for note in v.notes)
    # Without the post command the same trials are judged on duration, where the harness looks worse.
    *_, on_duration = analyse(trials, alpha=0.05, higher_is_better=True, seed=0)
    assert (on_duration.outcome, on_duration.primary) == ("hurt", "cumulative_attempt_duration")
    # No group can be tested on the post score when one has no measured trial.
    unmeasured = [measured(t, None) if t.group == "plain" else t for t in trials]
    *_, none = analyse(unmeasured, alpha=0.05, higher_is_better=True, seed=0, post_primary=True)
    assert (none.outcome, none.primary) == ("insufficient_data", "post_score")
