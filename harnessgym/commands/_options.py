"""Options shared by ``harnessgym run`` and ``harnessgym compare``: the task, the runner, the agent CLIs.

Each group is a decorator, so both commands list the same flags with the same defaults and help. Top-level
imports stay light (click, stdlib); pydantic and the runner models load inside the helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = [
    "agent_cli_options",
    "duration",
    "durations",
    "read_task",
    "runner_option",
    "runner_options_from",
    "task_options",
    "validation_message",
    "verify_pass_env_option",
]

F = TypeVar("F", bound=Callable[..., Any])


def duration(_ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """A click callback: ``"45m"`` → seconds."""
    if value is None:
        return None
    from harnessgym.errors import DurationError

    try:
        from harnessgym.duration import parse_duration

        return parse_duration(value)
    except DurationError as exc:
        raise click.BadParameter(str(exc), param=param) from None


def durations(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[float, ...]:
    """A click callback: ``"5m,8m"`` → seconds per iteration."""
    if not value:
        return ()
    return tuple(duration(ctx, param, part.strip()) or 0.0 for part in value.split(",") if part.strip())


def read_task(task: str, *bases: Path) -> tuple[str, Path]:
    """The text and absolute path of ``--task``: absolute as given, else relative to the current dir, then to
    each of ``bases`` in turn."""
    from harnessgym.errors import TaskNotFoundError

    given = Path(task).expanduser()
    candidates = [given] if given.is_absolute() else [Path.cwd() / given, *(b / given for b in bases)]
    path = next((p for p in candidates if p.is_file()), candidates[0])
    try:
        return path.read_text(encoding="utf-8"), path.absolute()
    except FileNotFoundError:
        raise TaskNotFoundError(path.absolute()) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskNotFoundError(path.absolute(), str(exc)) from None


def _apply(f: F, decorators: list[Callable[[F], F]]) -> F:
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def task_options(fallback: str) -> Callable[[F], F]:
    """``--task FILE`` / ``--task-text TEXT`` (the command checks that exactly one is given); a relative
    ``--task`` is looked up in the current dir, then in ``fallback`` (e.g. "the workspace")."""
    where = f"relative: to the current dir, then {fallback}"

    def decorate(f: F) -> F:
        return _apply(f, [
            click.option("--task", "task", help=f"File holding the task ({where})."),
            click.option("--task-text", help="The task itself."),
        ])  # fmt: skip

    return decorate


def verify_pass_env_option(f: F) -> F:
    """``--verify-pass-env NAME`` (repeatable)."""
    return click.option(
        "--verify-pass-env",
        "verify_pass_env",
        multiple=True,
        metavar="NAME",
        help="Repeatable. A secret-named variable (key, token, ...) the verify and post commands still get; "
        "they get no other, since what they run is mostly the agent's code.",
    )(f)


def runner_option(f: F) -> F:
    """``--runner``."""
    choice = click.Choice(["fake", "claude", "codex", "exec"])
    return click.option("--runner", type=choice, default="fake", show_default=True)(f)


def agent_cli_options(f: F) -> F:
    """How to drive each agent CLI: ``--claude-*``, ``--codex-*``, ``--fake-script``."""
    return _apply(f, [
        click.option("--claude-bin", default="claude", show_default=True),
        click.option("--claude-model"),
        click.option("--claude-permission-mode", default="bypassPermissions", show_default=True),
        click.option("--claude-max-budget-usd", type=float),
        click.option("--claude-extra-arg", "claude_extra_args", multiple=True, help="Repeatable; appended verbatim."),
        click.option("--codex-bin", default="codex", show_default=True),
        click.option("--codex-model"),
        click.option("--codex-sandbox", type=click.Choice(["read-only", "workspace-write", "danger-full-access"])),
        click.option("--codex-config", multiple=True, metavar="KEY=VALUE", help="Repeatable."),
        click.option("--fake-script", type=click.Path(path_type=Path), help="JSON script for the fake agent."),
    ])  # fmt: skip


def runner_options_from(opts: dict[str, Any]) -> Any:
    """The :class:`runners._options.RunnerOptions` of the options :func:`agent_cli_options` added."""
    from runners import RunnerOptions

    if opts["fake_script"] is not None and not Path(opts["fake_script"]).is_file():
        raise click.UsageError(f"--fake-script {opts['fake_script']} is not a file")
    return RunnerOptions(
        fake_script=Path(opts["fake_script"]).absolute() if opts["fake_script"] else None,
        claude_bin=opts["claude_bin"], claude_model=opts["claude_model"],
        claude_permission_mode=opts["claude_permission_mode"],
        claude_max_budget_usd=opts["claude_max_budget_usd"],
        claude_extra_args=tuple(opts["claude_extra_args"]),
        codex_bin=opts["codex_bin"], codex_model=opts["codex_model"], codex_sandbox=opts["codex_sandbox"],
        codex_config=tuple(opts["codex_config"]),
    )  # fmt: skip


def validation_message(exc: Any) -> str:
    """A pydantic ``ValidationError`` as one line: ``field: message; field: message``."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
