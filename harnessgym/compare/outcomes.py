"""What a one-task comparison concludes: the per-group distributions, the tests and the verdict (the records
:mod:`harnessgym.compare.analysis` computes and :class:`~harnessgym.compare.models.CompareReport` holds)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harnessgym.compare.spec import Group

__all__ = ["CompareVerdict", "Comparison", "Distribution", "GroupSummary", "ShiftTest"]


class Distribution(BaseModel):
    """Summary of one measurement over a group's valid trials."""

    model_config = ConfigDict(extra="forbid")

    n: int
    median: float
    mean: float
    min: float
    max: float


class GroupSummary(BaseModel):
    """One group's valid trials, and how many were set aside."""

    model_config = ConfigDict(extra="forbid")

    group: Group
    n_trials: int
    """Trials run (finished)."""
    n_valid: int
    n_invalid: int
    invalid_reasons: dict[str, int] = Field(default_factory=dict)
    """Invalid trials by kind."""
    solved: int
    """Valid trials solved on verified evidence."""
    solve_rate: float | None = None
    """solved / n_valid; None without valid trials."""
    solve_rate_ci: tuple[float, float] | None = None
    """Wilson 95% interval."""
    attempt_duration: Distribution | None = None
    """Last attempt's duration (seconds)."""
    cumulative_attempt_duration: Distribution | None = None
    """All attempts of a trial (seconds)."""
    score: Distribution | None = None
    """Last measured score, over the valid trials that have one."""
    post_score: Distribution | None = None
    """Post command scores, over the valid trials whose post command passed with a number."""
    post_unmeasured: int = 0
    """Valid trials whose post command failed, timed out or printed no score (not in the post score test)."""
    mcp_call_count: int = 0
    """MCP calls over the valid trials."""
    mcp_tools_called: list[str] = Field(default_factory=list)
    cost_usd: float | None = None
    """Total reported cost of the valid trials."""


class ShiftTest(BaseModel):
    """Harnessed against plain on one measurement: harnessed minus plain throughout."""

    model_config = ConfigDict(extra="forbid")

    measure: Literal["cumulative_attempt_duration", "attempt_duration", "score", "post_score"]
    n_harnessed: int
    n_plain: int
    better: Literal["lower", "higher"]
    """Which direction is better for this measure."""
    median_difference: float
    """median(harnessed) − median(plain)."""
    median_difference_ci: tuple[float, float] | None = None
    """Seeded percentile bootstrap 95% interval of the median difference."""
    hodges_lehmann: float
    """Hodges–Lehmann estimate of the shift (harnessed − plain)."""
    mann_whitney_u: float
    """U of the harnessed group."""
    p: float
    """Two-sided Mann–Whitney p."""
    method: Literal["exact", "normal"]
    min_p: float
    """The smallest p these group sizes allow."""
    favours: Literal["harnessed", "plain", "neither"]
    """Descriptively, which group the data lean towards (not a significance claim)."""


class Comparison(BaseModel):
    """The tests between the groups' valid trials."""

    model_config = ConfigDict(extra="forbid")

    solve_rate_difference: float | None = None
    """Harnessed solve rate − plain solve rate."""
    solve_rate_difference_ci: tuple[float, float] | None = None
    """Newcombe's hybrid score 95% interval."""
    fisher_p: float | None = None
    """Two-sided Fisher exact p of the 2×2 table solved/unsolved × group."""
    fisher_min_p: float | None = None
    """The smallest Fisher p these group sizes allow."""
    cumulative_attempt_duration: ShiftTest | None = None
    attempt_duration: ShiftTest | None = None
    score: ShiftTest | None = None
    post_score: ShiftTest | None = None


class CompareVerdict(BaseModel):
    """The answer, from the pre-declared primary outcome only."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["helped", "hurt", "no_detectable_difference", "insufficient_data"]
    primary: Literal["solve_rate", "cumulative_attempt_duration", "post_score"] | None = None
    """Solve rate; when both groups solved all or none of their valid trials, the post score if a post command
    is configured, else the cumulative attempt duration."""
    p: float | None = None
    alpha: float
    headline: str
    """One sentence: the answer and the numbers behind it."""
    notes: list[str] = Field(default_factory=list)
    """Sample sizes, what n a test would need, what was set aside."""
