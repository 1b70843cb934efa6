"""The statistics of a comparison across a task suite: pure functions of numbers, no I/O.

The unit of replication is the task. Each task gives one paired difference, the treated arm's mean outcome
minus the control arm's (harnessed minus plain, or harnessed minus a leave-one-out arm) over its trials; an
outcome is 1/0 for solved/unsolved, or a score. Across the suite:

* **estimate**: the mean of the per-task differences (every task weighs the same, however many trials it has);
* **interval**: a seeded percentile bootstrap that resamples tasks with replacement and then, within each
  drawn task, each arm's trials with replacement (a two-stage, hierarchical bootstrap), so both the spread
  between tasks and the noise of few trials per task widen it;
* **p**: a sign-flip permutation test over tasks: under "the harness does nothing" each task's difference is
  as likely to have either sign, so the observed mean is compared with the means of every assignment of signs
  (exact when there are at most 16 tasks, else a seeded Monte Carlo sample with the (1 + hits) / (1 + draws)
  estimate); two-sided;
* **pass@k**: the unbiased estimator 1 − C(n − c, k) / C(n, k) (Chen et al. 2021) per task, averaged over tasks;
* **tasks needed**: the normal approximation for a two-sided one-sample test of the mean per-task difference,
  n = ((z₁₋α/₂ + z_power) · s / |d̄|)², s the standard deviation of the per-task differences, and at least as
  many tasks as the exact sign-flip test needs to reach α at all.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from harnessgym.compare.stats import normal_quantile

__all__ = [
    "EXACT_SIGN_FLIP_MAX_TASKS",
    "TaskOutcomes",
    "hierarchical_bootstrap",
    "mean_difference",
    "min_tasks_for_sign_flip",
    "pass_at_k",
    "sign_flip_p",
    "task_difference",
    "tasks_needed",
]

EXACT_SIGN_FLIP_MAX_TASKS = 16
"""Up to this many tasks the sign-flip p enumerates all 2^n sign assignments (65,536 at 16)."""
_TOLERANCE = 1e-12


@dataclass(frozen=True)
class TaskOutcomes:
    """One task's trial outcomes in the treated and the control arm (both non-empty)."""

    name: str
    treated: tuple[float, ...]
    control: tuple[float, ...]


def task_difference(task: TaskOutcomes) -> float:
    """mean(treated) − mean(control)."""
    return statistics.fmean(task.treated) - statistics.fmean(task.control)


def mean_difference(tasks: Sequence[TaskOutcomes]) -> float:
    """The suite estimate: the mean over tasks of their differences."""
    return statistics.fmean(task_difference(t) for t in tasks)


def _percentile_interval(values: list[float], confidence: float) -> tuple[float, float]:
    values.sort()
    n = len(values)
    tail = (1 - confidence) / 2
    lo = values[min(n - 1, max(0, math.floor(tail * n)))]
    hi = values[min(n - 1, max(0, math.ceil((1 - tail) * n) - 1))]
    return lo, hi


def hierarchical_bootstrap(
    tasks: Sequence[TaskOutcomes], *, seed: int, resamples: int = 2000, confidence: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of the mean per-task difference: resample tasks, then each arm's trials in each."""
    if not tasks:
        raise ValueError("a bootstrap needs at least one task")
    rng = random.Random(seed)
    n = len(tasks)
    means: list[float] = []
    for _ in range(resamples):
        total = 0.0
        for task in rng.choices(tasks, k=n):
            treated = rng.choices(task.treated, k=len(task.treated))
            control = rng.choices(task.control, k=len(task.control))
            total += statistics.fmean(treated) - statistics.fmean(control)
        means.append(total / n)
    return _percentile_interval(means, confidence)


def sign_flip_p(differences: Sequence[float], *, seed: int, resamples: int = 10_000) -> tuple[float, str]:
    """Two-sided sign-flip permutation p of the mean difference, and ``exact`` or ``monte_carlo``."""
    n = len(differences)
    if n == 0:
        return 1.0, "exact"
    observed = abs(sum(differences)) - _TOLERANCE * max(1.0, sum(abs(d) for d in differences))
    if n <= EXACT_SIGN_FLIP_MAX_TASKS:
        hits = sum(
            abs(sum(s * d for s, d in zip(signs, differences, strict=True))) >= observed
            for signs in itertools.product((1, -1), repeat=n)
        )
        return hits / 2**n, "exact"
    rng = random.Random(seed)
    hits = sum(abs(sum(d if rng.random() < 0.5 else -d for d in differences)) >= observed for _ in range(resamples))
    return (1 + hits) / (1 + resamples), "monte_carlo"


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of one task with ``c`` of ``n`` trials solved: 1 − C(n − c, k) / C(n, k)."""
    if not 0 < k <= n or not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 < k <= n and 0 <= c <= n, not n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def min_tasks_for_sign_flip(alpha: float) -> int:
    """The fewest tasks for which the exact two-sided sign-flip test can give p < alpha (2 / 2^n)."""
    n = 1
    while 2.0 / 2**n >= alpha:
        n += 1
    return n


def tasks_needed(differences: Sequence[float], *, alpha: float, power: float = 0.8) -> int | None:
    """Tasks needed to detect the observed mean difference (see the module docstring); None when it is nil."""
    if not differences:
        return None
    mean = statistics.fmean(differences)
    if abs(mean) < _TOLERANCE:
        return None
    spread = statistics.stdev(differences) if len(differences) > 1 else 0.0
    za, zb = normal_quantile(1 - alpha / 2), normal_quantile(power)
    normal = math.ceil(((za + zb) * spread / abs(mean)) ** 2)
    return max(normal, min_tasks_for_sign_flip(alpha))
