"""Goal mode: an attempt the agent keeps pursuing until a stated condition holds, within a token budget.

Every runner drives a goal the same way, in two steps of one session: the attempt prompt first (an ordinary
turn), then the goal is set on that session with the condition, and the CLI's own goal machinery keeps the agent
working turn after turn until the condition holds (Claude Code's ``/goal`` Stop hook, Codex's thread goal
through ``codex app-server``), the agent declares it impossible, the token budget runs out, or the phase's time
is up. Those four ends are distinct :data:`GoalOutcome` values in the phase's :class:`GoalReport`.

The goal decides how long the agent tries, never whether the task is solved: harnessgym's verify or post command
still decides that (the report's ``outcome`` is the CLI's or the agent's claim).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_GOAL_TOKEN_BUDGET", "GoalOutcome", "GoalReport", "GoalSpec", "TokenMeter"]

DEFAULT_GOAL_TOKEN_BUDGET = 1_000_000
"""Tokens (input and output, as the CLI counts them) a goal may use by default: a few dozen turns of a large
context. A goal never met must stop somewhere: unbounded, a Codex goal made 139 model requests in ten seconds."""

GoalOutcome = Literal["met", "impossible", "budget_exhausted", "timeout", "failed", "not_met"]
"""How a goal ended: ``met`` (the CLI judged the condition to hold), ``impossible`` (the agent or the CLI's
judge declared it can never hold), ``budget_exhausted`` (the token budget ran out), ``timeout`` (the phase's
time ran out), ``failed`` (the agent CLI failed or could not start the goal), ``not_met`` (the session ended
otherwise with the goal still open)."""


class GoalSpec(BaseModel):
    """The goal a phase runs under (attempts only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    condition: str = Field(min_length=1)
    """What must hold for the agent to stop, in the words the agent and the CLI's judge see."""
    token_budget: int = Field(default=DEFAULT_GOAL_TOKEN_BUDGET, gt=0)
    """Tokens the whole attempt may use (the first turn included); the agent is stopped when they run out."""


class GoalReport(BaseModel):
    """What became of a phase's goal, as the runner observed it."""

    model_config = ConfigDict(extra="forbid")

    condition: str
    """The condition the goal was set with."""
    outcome: GoalOutcome
    """How the goal ended (see :data:`GoalOutcome`); a claim, not evidence that the task is solved."""
    turns: int = 0
    """Agent turns of the attempt: the first one plus every continuation the goal forced."""
    tokens_used: int = 0
    """Tokens the attempt used, as the CLI reported them (input plus output, cached input included)."""
    token_budget: int
    """The budget the goal had."""
    reason: str = ""
    """Why it ended, in the CLI's or the judge's words when they gave any."""


class TokenMeter:
    """Counts a session's tokens as they are reported and says when a budget is spent."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._seen: set[str] = set()

    def add(self, tokens: int, key: str | None = None) -> bool:
        """Count ``tokens`` (once per ``key`` when given); True once the budget is spent."""
        if key is not None:
            if key in self._seen:
                return self.exhausted
            self._seen.add(key)
        self.used += max(0, tokens)
        return self.exhausted

    @property
    def exhausted(self) -> bool:
        return self.used >= self.budget
