"""The hand-written statistics of `harnessgym compare`, checked against published values."""

from __future__ import annotations

import pytest

from harnessgym.compare import stats


def test_fisher_exact_matches_the_textbook_table() -> None:
    # [[3, 1], [1, 3]]: two-sided p = 34/70 (Agresti, Categorical Data Analysis; R fisher.test).
    assert stats.fisher_exact(3, 4, 1, 4) == pytest.approx(0.4857142857, abs=1e-9)
    # Fisher's tea-tasting table is symmetric in the groups and in success/failure.
    assert stats.fisher_exact(1, 4, 3, 4) == stats.fisher_exact(3, 4, 1, 4)
    assert stats.fisher_exact(4, 4, 0, 4) == pytest.approx(2 / 70)
    assert stats.fisher_exact(2, 4, 2, 4) == 1.0


def test_three_trials_per_group_can_never_reach_five_percent() -> None:
    assert stats.fisher_exact(3, 3, 0, 3) == pytest.approx(0.1)
    assert stats.fisher_min_p(3, 3) == pytest.approx(0.1)
    assert stats.fisher_min_p(4, 4) == pytest.approx(2 / 70)
    assert stats.fisher_min_p(0, 5) == 1.0


def test_wilson_interval_for_eight_of_ten() -> None:
    # Newcombe (1998), and any Wilson calculator: 8/10 → 0.4902 to 0.9433.
    lo, hi = stats.wilson_interval(8, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)
    assert stats.wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = stats.wilson_interval(0, 3)
    assert lo == 0.0 and hi == pytest.approx(0.5615, abs=1e-4)


def test_newcombe_interval_matches_the_papers_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 − 48/80 → 0.0524 to 0.3339.
    lo, hi = stats.newcombe_interval(56, 70, 48, 80)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)


def test_mann_whitney_exact_p_for_a_small_sample() -> None:
    # The example of scipy.stats.mannwhitneyu's documentation: U = 17, exact two-sided p = 1/9.
    test = stats.mann_whitney([19, 22, 16, 29, 24], [20, 11, 17, 12])
    assert test is not None and (test.u, test.method) == (17.0, "exact")
    assert test.p == pytest.approx(1 / 9)
    separated = stats.mann_whitney([1, 2, 3], [4, 5, 6])
    assert separated is not None and (separated.u, separated.p) == (0.0, pytest.approx(0.1))
    assert stats.mann_whitney_min_p(3, 3) == pytest.approx(0.1)


def test_mann_whitney_with_ties_is_exact_while_small_and_normal_beyond() -> None:
    # Ties: the permutation distribution of the midranks (brute force over all 12 870 splits gives 0.081119).
    tied = stats.mann_whitney([1, 2, 2, 3, 5, 6, 7, 8], [2, 3, 3, 9, 10, 11, 12, 13])
    assert tied is not None and (tied.u, tied.method) == (15.0, "exact")
    assert tied.p == pytest.approx(0.0811188811, abs=1e-9)
    # All tied within groups: the normal approximation would claim p = 0.047, below the exact minimum of 0.1.
    flat = stats.mann_whitney([0.0, 0.0, 0.0], [0.57, 0.57, 0.57])
    assert flat is not None and flat.p == pytest.approx(0.1)
    big = stats.mann_whitney([float(i % 7) for i in range(30)], [float(i % 5) + 1 for i in range(30)])
    assert big is not None and big.method == "normal" and 0 < big.p < 1
    assert stats.mann_whitney([], [1.0]) is None


def test_hodges_lehmann_is_the_median_of_pairwise_differences() -> None:
    assert stats.hodges_lehmann([4, 5, 6], [1, 2, 3]) == 3.0
    # Hollander & Wolfe's style check: differences of [1.83, 0.50, 1.62] − [0.878, 0.647, 0.598] (9 pairs).
    x, y = [1.83, 0.50, 1.62], [0.878, 0.647, 0.598]
    diffs = sorted(a - b for a in x for b in y)
    assert stats.hodges_lehmann(x, y) == pytest.approx(diffs[4])
    assert stats.hodges_lehmann([], [1.0]) is None


def test_bootstrap_interval_is_seeded_and_brackets_the_shift() -> None:
    x, y = [10.0, 11.0, 12.0, 13.0], [1.0, 2.0, 3.0, 4.0]
    first = stats.bootstrap_median_difference(x, y, seed=7)
    assert first == stats.bootstrap_median_difference(x, y, seed=7)
    assert first is not None and 6.0 <= first[0] <= 9.0 <= first[1] <= 12.0
    assert stats.bootstrap_median_difference([], y, seed=7) is None


def test_sample_size_statements_are_roughly_the_textbook_ones() -> None:
    assert stats.normal_quantile(0.975) == pytest.approx(1.959964, abs=1e-6)
    # 60% vs 30% at alpha 0.05 and 80% power: about 42 per group without continuity correction.
    assert stats.n_for_proportions(0.6, 0.3, alpha=0.05) == 42
    assert stats.n_for_proportions(0.5, 0.5, alpha=0.05) is None
    assert stats.n_for_shift(0.5, alpha=0.05) is None
    assert stats.n_for_shift(0.75, alpha=0.05) == 21
