"""The options ``harnessgym run`` and ``harnessgym compare`` write by hand: the task, read from a file or given
as text. Every other option is generated from the config models (:mod:`harnessgym.options`).

Top-level imports stay light (click, stdlib).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["announce_runner", "read_task", "task_fields", "task_options"]

F = TypeVar("F", bound=Callable[..., Any])


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


def task_options(fallback: str) -> Callable[[F], F]:
    """``--task FILE`` / ``--task-text TEXT`` (:func:`task_fields` checks that exactly one is given); a relative
    ``--task`` is looked up in the current dir, then in ``fallback`` (e.g. "the workspace")."""
    where = f"relative: to the current dir, then {fallback}"

    def decorate(f: F) -> F:
        f = click.option("--task-text", help="The task itself.")(f)
        return click.option("--task", "task", help=f"File holding the task ({where}).")(f)

    return decorate


def task_fields(opts: dict[str, Any], *bases: Path) -> dict[str, Any]:
    """The ``task_text`` and ``task_path`` fields of ``--task`` or ``--task-text`` (exactly one of them)."""
    if bool(opts["task"]) == bool(opts["task_text"]):
        raise click.UsageError("pass exactly one of --task FILE and --task-text TEXT")
    if not opts["task"]:
        return {"task_text": opts["task_text"], "task_path": None}
    text, path = read_task(opts["task"], *bases)
    return {"task_text": text, "task_path": path}


def announce_runner(runner: str, runner_options: Any) -> str:
    """The concrete runner of ``--runner`` (``auto`` looks on the PATH), announced on stderr: every run and
    comparison says which agent it drives before it starts."""
    from harnessgym.config import resolve_runner

    name, why = resolve_runner(runner, runner_options)
    click.echo(f"{time.strftime('%H:%M:%S')} Runner: {name} ({why})", err=True)  # stamped like progress lines
    return name
