"""The records of a comparison across tasks, arms and runners (``CompareReport.suite``); see
:mod:`harnessgym.compare.suite_stats` for the methods and :mod:`harnessgym.compare.suite_analysis` for how they
are filled."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ArmSummary", "ArtifactEffect", "SuiteAnalysis", "SuiteEffect", "TaskDifference"]

Change = Literal["improved", "regressed", "unchanged"]


class ArmSummary(BaseModel):
    """One arm under one runner, over all tasks."""

    model_config = ConfigDict(extra="forbid")

    arm: str
    """``plain``, ``harnessed`` or ``minus:<artifact id>``."""
    runner: str
    n_trials: int
    """Trials that ran (those the budget stopped are in ``CompareReport.not_run``)."""
    n_valid: int
    infra_errors: int = 0
    """Trials whose infrastructure failed after every retry (not in any statistic)."""
    invalid_reasons: dict[str, int] = Field(default_factory=dict)
    solved: int
    solve_rate: float | None = None
    """Mean over tasks of each task's solve rate (every task weighs the same)."""
    pass_at_k: dict[int, float] = Field(default_factory=dict)
    """k → unbiased pass@k averaged over the tasks with at least k valid trials of this arm."""
    tool_use_rate: float | None = None
    """Share of valid trials with at least one MCP tool call (harnessed arms)."""
    median_attempt_seconds: float | None = None
    """Median cumulative attempt time of a valid trial."""
    median_cost_usd: float | None = None
    """Median reported cost of a valid trial (trials that report one)."""
    cost_usd: float | None = None
    """Total reported cost of the arm's trials."""
    cost_per_solved_task: float | None = None
    """Total reported cost of the valid trials / their solved trials: what one solved task cost."""


class TaskDifference(BaseModel):
    """One task: the treated arm minus the control arm."""

    model_config = ConfigDict(extra="forbid")

    task: str
    runner: str
    treated: str
    control: str
    n_treated: int
    n_control: int
    solve_rate_treated: float
    solve_rate_control: float
    solve_rate_difference: float
    solve_rate_ci: tuple[float, float]
    """Newcombe's hybrid score 95% interval."""
    score_difference: float | None = None
    """mean(score treated) − mean(score control), over the valid trials with a score."""
    score_ci: tuple[float, float] | None = None
    """Seeded percentile bootstrap 95% interval (each arm resampled on its own)."""
    change: Change
    """By the solve rate; when it is equal, by the score in its better direction; else unchanged."""


class SuiteEffect(BaseModel):
    """Across tasks: the mean paired difference, its interval and its test."""

    model_config = ConfigDict(extra="forbid")

    measure: Literal["solve_rate", "score"]
    runner: str
    treated: str
    control: str
    n_tasks: int
    mean_difference: float
    """Mean over tasks of (treated − control); for scores, in the score's own units (sign as measured)."""
    ci: tuple[float, float]
    """Hierarchical bootstrap 95% interval (tasks, then trials within tasks)."""
    p: float
    """Two-sided sign-flip permutation p over tasks."""
    p_method: Literal["exact", "monte_carlo"]
    improved: int
    regressed: int
    unchanged: int
    tasks_needed: int | None = None
    """Tasks to detect the observed effect at alpha with 80% power (None: no effect to size)."""
    trials_needed: int | None = None
    """tasks_needed × trials per arm per task now × 2 arms."""


class ArtifactEffect(BaseModel):
    """What one artifact carries: harnessed minus the arm without it (leave-one-out), across tasks."""

    model_config = ConfigDict(extra="forbid")

    artifact: str
    runner: str
    effect: SuiteEffect
    """On the solve rate: positive means removing the artifact lost solves."""
    suggestion: Literal["keep", "retire"]
    """``keep`` when removing it lowered the solve rate (or, at equal rates, the score); else ``retire``."""
    reason: str


class SuiteAnalysis(BaseModel):
    """Everything across tasks, arms and runners."""

    model_config = ConfigDict(extra="forbid")

    tasks: list[str]
    runners: list[str]
    arms: list[ArmSummary]
    differences: list[TaskDifference]
    """Per task and runner: harnessed minus plain, and harnessed minus each leave-one-out arm."""
    effects: list[SuiteEffect]
    """Per runner, harnessed minus plain, on the solve rate and on the score."""
    artifacts: list[ArtifactEffect] = Field(default_factory=list)
    methods: list[str] = Field(default_factory=list)
    """How every number was computed, in words."""
