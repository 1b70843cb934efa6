"""``--goal [CONDITION]``, ``--goal-token-budget N`` and the experimental ``--watch`` for ``run`` and ``compare``
(by hand until the options are generated from the config fields), and the notice ``--runner tui-goal`` prints.
Top-level imports stay light."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["TUI_GOAL_NOTICE", "goal_fields", "goal_options"]

F = TypeVar("F", bound=Callable[..., Any])

GOAL_FROM_TASK = "@task"  # = harnessgym.config.GOAL_FROM_TASK (not imported: it would load pydantic)
TUI_GOAL_NOTICE = (
    "--runner tui-goal: running Codex in goal mode through `codex app-server` (no terminal UI); "
    "the attempt pursues --goal (default: the task's own success condition)"
)


def goal_options(f: F) -> F:
    """``--goal [CONDITION]`` (bare: the task's own success condition) and ``--goal-token-budget``."""
    f = click.option(
        "--goal-token-budget", type=int, default=None, metavar="TOKENS",
        help="Tokens one goal-mode attempt may use before the agent is stopped (default 1000000).",
    )(f)  # fmt: skip
    f = click.option(
        "--watch", is_flag=True, default=False,
        help="Experimental, Codex only: run each attempt in Codex's interactive UI in a private tmux server you can "
        "attach to read-only (the command is in the attempt's transcript).",
    )(f)  # fmt: skip
    return click.option(
        "--goal", is_flag=False, flag_value=GOAL_FROM_TASK, default=None, metavar="[CONDITION]",
        help="Goal mode: the agent keeps working on each attempt until CONDITION holds, its token budget runs "
        "out or the attempt times out; a bare --goal uses the task's own success condition. The verify or "
        "post command still decides \"solved\".",
    )(f)  # fmt: skip


def goal_fields(opts: dict[str, Any]) -> dict[str, Any]:
    """The config fields of the goal options that were given (printing the tui-goal notice)."""
    if opts.get("runner") == "tui-goal":
        click.echo(TUI_GOAL_NOTICE, err=True)
    fields: dict[str, Any] = {}
    if opts.get("goal") is not None:
        fields["goal"] = opts["goal"]
    if opts.get("goal_token_budget") is not None:
        fields["goal_token_budget"] = opts["goal_token_budget"]
    if opts.get("watch"):
        fields["watch"] = True
    return fields
