"""The goal-mode conversations both real CLIs go through against the scripted model (see ``scripted_model.goals``).

``HG_GOAL_MET``: three turns of work (each appends to ``progress.txt``); the third also writes ``done.txt``,
which is what the condition asks for. Claude Code's judge finds the file and ends the goal; for Codex the model
calls ``update_goal`` with ``complete`` once the file exists. ``HG_GOAL_NEVER``: every turn says it is still
working and nothing ever makes the condition true, so only the token budget (or the phase timeout) ends it.
``HG_GOAL_IMPOSSIBLE``: Claude's judge answers ``impossible``; Codex's model marks the goal ``blocked``.
``HG_GOAL_STALL``: the model stops answering in the goal's first turn, so the phase times out.
``HG_GOAL_REFLECT``: the
reflection on the same session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["CONDITION", "goal_scripts", "judge_requests", "progress"]

CONDITION = "the file done.txt exists in the working folder"
Step = dict[str, Any]


def goal_scripts(shell: Callable[[str], Step], agent: str) -> list[dict[str, Any]]:
    finish: list[Step] = []
    if agent == "codex":
        finish = [
            {
                "tool": "update_goal",
                "arguments": {"status": "complete"},
                "when_file": "done.txt",
                "otherwise": {"text": "not there yet"},
            }
        ]
    give_up: list[Step] = [{"tool": "update_goal", "arguments": {"status": "blocked"}}] if agent == "codex" else []
    met = [
        shell("echo one >> progress.txt"),
        {"text": "first turn done"},
        shell("echo two >> progress.txt"),
        {"text": "second turn done"},
        shell("echo three >> progress.txt; echo ok > done.txt"),
        *finish,
        {"text": "goal reached"},
    ]
    return [
        {"marker": "HG_GOAL_MET", "continue": True, "judge": {"file": "done.txt"}, "steps": met},
        {
            "marker": "HG_GOAL_NEVER",
            "continue": True,
            "judge": {"verdict": "never"},
            "usage": {"input_tokens": 1000, "output_tokens": 10},
            "steps": [shell("echo x >> progress.txt"), {"text": "still working"}],
        },
        {
            "marker": "HG_GOAL_IMPOSSIBLE",
            "continue": True,
            "judge": {"verdict": "impossible"},
            "steps": [shell("echo tried >> progress.txt"), {"text": "first turn done"}, *give_up, {"text": "stuck"}],
        },
        {
            "marker": "HG_GOAL_STALL",
            "continue": True,
            "steps": [shell("echo x >> progress.txt"), {"text": "first turn done"}, {"stall": 120, "text": "late"}],
        },
        {"marker": "HG_GOAL_REFLECT", "steps": [{"text": "reflected"}]},
    ]


def judge_requests(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scripted model's answers to Claude Code's stop-condition evaluator."""
    return [r for r in requests if (r.get("reply") or {}).get("kind") == "judge"]


def progress(workspace: Any) -> list[str]:
    path = workspace / "progress.txt"
    return path.read_text().split() if path.exists() else []
