"""The statistics of ``harnessgym compare``, written out by hand: pure functions of numbers, no I/O.

Why not numpy or scipy: a comparison has a handful of trials per group, where exact methods (Fisher's test,
the exact Mann–Whitney distribution) are both cheap and the right choice, and the few formulas needed fit in
one readable module. Pulling in scipy (tens of megabytes, compiled) for them would make harnessgym heavier to
install than the whole rest of it. Each function names its method and source; the tests check them against
published values.

Everything here is two-sided. Nothing here decides what "better" means; :mod:`harnessgym.compare.analysis`
does, from these numbers.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "MannWhitney",
    "bootstrap_median_difference",
    "fisher_exact",
    "fisher_min_p",
    "hodges_lehmann",
    "mann_whitney",
    "mann_whitney_min_p",
    "n_for_proportions",
    "n_for_shift",
    "newcombe_interval",
    "normal_quantile",
    "wilson_interval",
]

_EXACT_MW_MAX = 20
"""Largest group size for which the exact Mann–Whitney distribution is used (when there are no ties)."""
_EXACT_TIES_MAX_SPLITS = 100_000
"""Most group splits enumerated for an exact Mann–Whitney p with ties."""


def _normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def normal_quantile(p: float) -> float:
    """The z with P(Z ≤ z) = p, by bisection on ``erfc`` (to machine precision; speed does not matter here)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"a probability strictly between 0 and 1 is needed, not {p}")
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 1.0 - _normal_sf(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a proportion (Wilson 1927; Newcombe 1998, method 3). (0, 1) when n = 0."""
    if n == 0:
        return 0.0, 1.0
    z = normal_quantile(1 - (1 - confidence) / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 − p2 (Newcombe 1998, method 10), built from two Wilson intervals."""
    p1 = k1 / n1 if n1 else 0.0
    p2 = k2 / n2 if n2 else 0.0
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    d = p1 - p2
    lower = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, lower), min(1.0, upper)


def fisher_exact(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p of Fisher's exact test for k1/n1 vs k2/n2 successes: the total probability, under the
    hypergeometric null with all margins fixed, of the tables no more likely than the observed one (R's
    ``fisher.test`` convention, with the same relative tolerance for ties in probability)."""
    total, successes = n1 + n2, k1 + k2
    if total == 0:
        return 1.0
    lo, hi = max(0, successes - n2), min(successes, n1)
    # Integer weights (the probabilities times C(total, n1)), so the sum is exact until the one division.
    weights = {a: math.comb(successes, a) * math.comb(total - successes, n1 - a) for a in range(lo, hi + 1)}
    observed = weights[k1]
    extreme = sum(w for w in weights.values() if w <= observed * (1 + 1e-7))
    return min(1.0, extreme / math.comb(total, n1))


def fisher_min_p(n1: int, n2: int) -> float:
    """The smallest two-sided p Fisher's test can give with n1 and n2 trials, whatever the outcomes."""
    if n1 == 0 or n2 == 0:
        return 1.0
    if n1 + n2 > 80:  # the extremes decide it; enumerating every table would be slow for no gain
        return min(fisher_exact(n1, n1, 0, n2), fisher_exact(0, n1, n2, n2))
    return min(fisher_exact(k1, n1, k2, n2) for k1 in range(n1 + 1) for k2 in range(n2 + 1))


@dataclass(frozen=True)
class MannWhitney:
    """The Mann–Whitney U test of x against y."""

    u: float
    """U of x: pairs with x > y, plus half the ties."""
    p: float
    """Two-sided p."""
    method: str
    """``exact`` (no ties, small groups) or ``normal`` (with tie and continuity correction)."""
    prob_x_greater: float
    """U / (n_x n_y): the estimated P(X > Y) + P(X = Y) / 2."""


def _u_counts(m: int, n: int) -> list[int]:
    """How many of the C(m+n, m) orderings of two tie-free samples give each U = 0 .. m n."""
    # f[i][j] = the distribution for sizes i, j, built up by whether the largest value is from x or from y.
    f: list[list[list[int]]] = [[[1] for _ in range(n + 1)] for _ in range(m + 1)]
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            counts = [0] * (i * j + 1)
            for u, c in enumerate(f[i - 1][j]):  # largest from x: it beats all j of y
                counts[u + j] += c
            for u, c in enumerate(f[i][j - 1]):
                counts[u] += c
            f[i][j] = counts
    return f[m][n] if m and n else [1]


def _midranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _exact_with_ties(x: Sequence[float], y: Sequence[float], u: float) -> float:
    """Two-sided p of the permutation distribution of U given the tied values: every split of the pooled
    midranks into groups of len(x) and len(y), counted as at least as far from the mean as the observed U."""
    m, n = len(x), len(y)
    ranks = _midranks([*x, *y])
    mean = m * n / 2
    offset = m * (m + 1) / 2
    observed = abs(u - mean) - 1e-9
    splits = extreme = 0
    for chosen in itertools.combinations(ranks, m):
        splits += 1
        extreme += abs(sum(chosen) - offset - mean) >= observed
    return min(1.0, extreme / splits)


def mann_whitney(x: Sequence[float], y: Sequence[float]) -> MannWhitney | None:
    """The two-sided Mann–Whitney U test; None when a sample is empty.

    Exact for small groups: without ties, from the permutation distribution of U (both groups of at most 20);
    with ties, by enumerating every split of the tied midranks (up to 100,000 splits) — where the usual normal
    approximation can report a p below anything the permutation distribution allows. Otherwise the normal
    approximation with the tie-corrected variance and a continuity correction (as scipy's ``mannwhitneyu``
    with ``use_continuity=True``).
    """
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        return None
    u = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)
    values = list(x) + list(y)
    ties = len(set(values)) < len(values)
    if not ties and max(m, n) <= _EXACT_MW_MAX:
        counts = _u_counts(m, n)
        whole = sum(counts)
        k = round(u)
        low = sum(counts[: k + 1]) / whole
        high = sum(counts[k:]) / whole
        return MannWhitney(u, min(1.0, 2 * min(low, high)), "exact", u / (m * n))
    if ties and math.comb(m + n, m) <= _EXACT_TIES_MAX_SPLITS:
        return MannWhitney(u, _exact_with_ties(x, y, u), "exact", u / (m * n))
    big_n = m + n
    tie_term = sum(t**3 - t for t in (values.count(v) for v in set(values)))
    variance = m * n / 12 * ((big_n + 1) - tie_term / (big_n * (big_n - 1)))
    if variance <= 0:
        return MannWhitney(u, 1.0, "normal", u / (m * n))
    z = max(0.0, abs(u - m * n / 2) - 0.5) / math.sqrt(variance)
    return MannWhitney(u, min(1.0, 2 * _normal_sf(z)), "normal", u / (m * n))


def mann_whitney_min_p(n1: int, n2: int) -> float:
    """The smallest two-sided exact p the Mann–Whitney test can give (complete separation, no ties; ties only
    raise it)."""
    if n1 == 0 or n2 == 0:
        return 1.0
    return min(1.0, 2 / math.comb(n1 + n2, n1))


def hodges_lehmann(x: Sequence[float], y: Sequence[float]) -> float | None:
    """The Hodges–Lehmann estimate of the shift of x relative to y: the median of all differences x_i − y_j."""
    if not x or not y:
        return None
    return float(statistics.median(a - b for a in x for b in y))


def bootstrap_median_difference(
    x: Sequence[float], y: Sequence[float], *, seed: int, resamples: int = 2000, confidence: float = 0.95
) -> tuple[float, float] | None:
    """A percentile bootstrap interval for median(x) − median(y), resampling each group on its own with a
    seeded generator (so a report can be reproduced). None when a group is empty."""
    if not x or not y:
        return None
    rng = random.Random(seed)
    diffs = sorted(
        statistics.median(rng.choices(x, k=len(x))) - statistics.median(rng.choices(y, k=len(y)))
        for _ in range(resamples)
    )
    tail = (1 - confidence) / 2
    lo = diffs[min(resamples - 1, max(0, math.floor(tail * resamples)))]
    hi = diffs[min(resamples - 1, max(0, math.ceil((1 - tail) * resamples) - 1))]
    return float(lo), float(hi)


def n_for_proportions(p1: float, p2: float, *, alpha: float, power: float = 0.8) -> int | None:
    """Trials per group for a two-sided test of p1 vs p2 to reach ``alpha`` with ``power`` (the usual normal
    approximation, e.g. Fleiss, *Statistical Methods for Rates and Proportions*, without continuity correction).
    None when p1 = p2: no number of trials detects no difference."""
    if p1 == p2:
        return None
    za, zb = normal_quantile(1 - alpha / 2), normal_quantile(power)
    mean = (p1 + p2) / 2
    root = za * math.sqrt(2 * mean * (1 - mean)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return max(2, math.ceil(root**2 / (p1 - p2) ** 2))


def n_for_shift(prob_x_greater: float, *, alpha: float, power: float = 0.8) -> int | None:
    """Trials per group for a Mann–Whitney test to detect an effect P(X > Y) = ``prob_x_greater`` (Noether 1987,
    equal groups). None when the effect is nil (0.5)."""
    effect = prob_x_greater - 0.5
    if abs(effect) < 1e-12:
        return None
    za, zb = normal_quantile(1 - alpha / 2), normal_quantile(power)
    total = (za + zb) ** 2 / (3 * effect**2)
    return max(2, math.ceil(total / 2))
