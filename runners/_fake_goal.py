"""Goal mode for the fake agent (``runners.fake_agent --goal CONDITION --goal-budget N``), for offline tests.

After the attempt step's actions (the first turn), the agent keeps taking turns the way Codex does for a thread
goal: each turn spends ``tokens_per_turn`` tokens, runs the step's ``goal.turn_actions`` and then checks its
script's rule; it ends when the rule says the condition holds, declares it impossible, or the budget is spent.
A step's ``goal`` object::

    {"met_when_file": "done.txt",     # the condition holds once this workspace file exists, or
     "met_after": 3,                  # ... after this many turns (the first included)
     "impossible_after": 2,           # declare the goal impossible after this many turns
     "tokens_per_turn": 1000,         # tokens each turn costs (at least 1, so the budget always ends it)
     "turn_actions": [ACTION, ...]}   # what each continuation turn does ({turn} in texts: its number)

Without a ``goal`` object a goal is never met (it runs to its budget). Events: ``goal_turn`` after every turn
and one ``goal`` event at the end (``status``: ``met``, ``impossible`` or ``budget_exhausted``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["run_goal"]

_MAX_TURNS = 10_000
"""A backstop: the budget ends every goal first unless a script sets absurd token costs."""


def _with_turn(action: dict[str, Any], turn: int) -> dict[str, Any]:
    done: dict[str, Any] = json.loads(json.dumps(action).replace("{turn}", str(turn)))
    return done


def run_goal(
    rule: dict[str, Any],
    condition: str,
    budget: int,
    workspace: Path,
    act: Callable[[dict[str, Any]], None],
    emit: Callable[[dict[str, Any]], None],
) -> None:
    """Take turns until the condition holds, is declared impossible, or ``budget`` tokens are spent."""
    per_turn = max(1, int(rule.get("tokens_per_turn", 1000)))
    used = 0
    for turn in range(1, _MAX_TURNS + 1):
        if turn > 1:
            for action in rule.get("turn_actions", []):
                act(_with_turn(action, turn))
        used += per_turn
        emit({"type": "goal_turn", "turn": turn, "tokens_used": used, "token_budget": budget})
        file = rule.get("met_when_file")
        if (file and (workspace / str(file)).exists()) or turn >= int(rule.get("met_after", _MAX_TURNS + 1)):
            return emit(_end("met", turn, used, budget, condition, f"the condition holds after turn {turn}"))
        if turn >= int(rule.get("impossible_after", _MAX_TURNS + 1)):
            return emit(_end("impossible", turn, used, budget, condition, "the agent declared the goal impossible"))
        if used >= budget:
            return emit(_end("budget_exhausted", turn, used, budget, condition, f"{used} of {budget} tokens used"))
    emit(_end("budget_exhausted", _MAX_TURNS, used, budget, condition, "turn limit reached"))


def _end(status: str, turns: int, used: int, budget: int, condition: str, reason: str) -> dict[str, Any]:
    return {"type": "goal", "status": status, "turns": turns, "tokens_used": used, "token_budget": budget,
            "condition": condition, "reason": reason}  # fmt: skip
