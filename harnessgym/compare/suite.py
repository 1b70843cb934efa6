"""A task suite (``harnessgym compare --suite SUITE.toml``): the file's model, and its resolution into one
:class:`~harnessgym.compare.spec.TaskSpec` per task.

A suite lists tasks; top-level keys are the suite's defaults for what a task leaves out::

    trials = 2
    [[tasks]]
    name = "alpha"
    workspace_template = "alpha"
    task = "task.md"
    verify_command = "python verify.py"
    split = "test"

Each field of a task comes from the task, else the suite's defaults, else the command line (``--trials``,
``--verify-command`` ...), else the built-in default; but a command-line option set to something other than
its default overrides the suite's defaults (never a task's own value). Paths are relative to the suite file's
folder; a task file not found there is looked up in the task's template. Runner options come from the command
line only.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harnessgym.compare.spec import TaskSpec
from harnessgym.duration import Duration
from harnessgym.errors import ConfigError

if TYPE_CHECKING:
    from harnessgym.compare.models import CompareConfig

__all__ = ["SUITE_OVERRIDABLE", "Suite", "SuiteTask", "load_suite", "resolve_suite"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class _TaskFields(BaseModel):
    """What a task sets, or the suite sets for every task that does not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workspace_template: Path | None = None
    """The task's clean starting folder (relative to the suite file)."""
    task: Path | None = None
    """The task file: relative to the suite file, then to the template."""
    task_text: str | None = None
    """The task as text (instead of ``task``)."""
    split: str | None = None
    """``train``, ``test`` or another name (default ``test``)."""
    artifact_source: Path | None = None
    """The workspace whose artifacts the harnessed arms get (default: ``--artifact-source``, else the template's)."""
    trials: int | None = Field(default=None, gt=0)
    """Trials per arm."""
    iterations: int | None = Field(default=None, gt=0)
    """Attempts per trial."""
    attempt_timeout: Duration | None = None
    """Limit of one attempt (``"5m"``, ``"90s"`` or seconds)."""
    attempt_timeouts: tuple[Duration, ...] | None = None
    """Per-iteration attempt limits."""
    verify_command: str | None = None
    """The evidence: run after every attempt."""
    verify_timeout: Duration | None = None
    """Limit of one verify run."""
    post_command: str | None = None
    """Run once on each trial's final workspace."""
    post_score_key: str | None = None
    """Where the post score is in its JSON."""
    post_timeout: Duration | None = None
    """Limit of the post command."""
    score_key: str | None = None
    """Where the score is in the verify command's JSON."""
    stop_score: float | None = None
    """A trial also counts as solved once its score reaches this."""
    higher_is_better: bool | None = None
    """Direction of the score (default: lower is better)."""
    task_state: Literal["continue", "reset"] | None = None
    """Restore the workspace before each attempt after the first (``reset``)."""


class SuiteTask(_TaskFields):
    """One ``[[tasks]]`` entry."""

    name: str
    """Unique in the suite: letters, digits, ``_``, ``.``, ``-``; names its folder under ``--output-dir``."""

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("a task name is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
        return value


class Suite(_TaskFields):
    """A ``SUITE.toml``: defaults at the top level, and the tasks."""

    tasks: list[SuiteTask] = Field(min_length=1)
    """The tasks, each ``[[tasks]]``."""


def _where(exc: ValidationError, suite: dict[str, Any]) -> str:
    """The first problem, naming the task (by name when it has one) and the field."""
    problems = []
    for error in exc.errors():
        loc = list(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if loc[:1] == ["tasks"] and len(loc) >= 2 and isinstance(loc[1], int):
            raw = suite.get("tasks", [])
            entry = raw[loc[1]] if isinstance(raw, list) and loc[1] < len(raw) else {}
            name = entry.get("name") if isinstance(entry, dict) else None
            who = f"task {name!r}" if isinstance(name, str) else f"task #{loc[1] + 1}"
            field = ".".join(map(str, loc[2:])) or "(the entry)"
            problems.append(f"{who}, field {field}: {message}")
        else:
            problems.append(f"field {'.'.join(map(str, loc)) or '(top level)'}: {message}")
    return "; ".join(problems)


def load_suite(path: Path) -> Suite:
    """The suite file, validated; :class:`ConfigError` naming the task and field otherwise."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist", "suite") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}", "suite") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", "suite") from None
    try:
        suite = Suite.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"suite {path}: {_where(exc, raw)}", "suite") from None
    seen: set[str] = set()
    for task in suite.tasks:
        if task.name in seen:
            why = f"suite {path}: task {task.name!r}, field name: two tasks are called {task.name!r}"
            raise ConfigError(why, "suite")
        seen.add(task.name)
    return suite


SUITE_OVERRIDABLE = ("trials", "iterations", "attempt_timeout", "attempt_timeouts", "verify_command", "verify_timeout",
                 "post_command", "post_score_key", "post_timeout", "score_key", "stop_score", "higher_is_better",
                 "task_state")  # fmt: skip


def _value(name: str, task: SuiteTask, suite: Suite, config: CompareConfig) -> Any:
    own = getattr(task, name)
    if own is not None:
        return own
    given = getattr(config, name)
    if name in config.model_fields_set and given is not None and given != type(config).model_fields[name].default:
        return given
    shared = getattr(suite, name)
    return shared if shared is not None else getattr(config, name)


def _resolve_task(task: SuiteTask, suite: Suite, base: Path, config: CompareConfig) -> TaskSpec:
    def fail(field: str, message: str) -> ConfigError:
        return ConfigError(f"{config.suite}: task {task.name!r}, field {field}: {message}", "suite")

    template_rel = task.workspace_template or suite.workspace_template
    if template_rel is None:
        raise fail("workspace_template", "missing (set it on the task or at the top of the suite)")
    template = (base / template_rel.expanduser()).absolute()
    if not template.is_dir():
        raise fail("workspace_template", f"{template} is not a directory")
    task_file = task.task or (suite.task if task.task_text is None else None)
    text = task.task_text if task.task is None else None
    if text is None and task_file is None:
        text = suite.task_text
    task_rel: str | None = None
    if task_file is not None:
        candidates = [base / task_file.expanduser(), template / task_file.expanduser()]
        found = next((p.absolute() for p in candidates if p.is_file()), None)
        if found is None:
            tried = " or ".join(str(p) for p in candidates)
            raise fail("task", f"no file {tried}")
        try:
            text = found.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise fail("task", f"{found} cannot be read: {exc}") from None
        task_rel = str(found.relative_to(template)) if found.is_relative_to(template) else None
    if text is None or not text.strip():
        raise fail("task", "missing or empty (give task = FILE or task_text = TEXT)")
    source = task.artifact_source or suite.artifact_source
    artifact_source = (base / source.expanduser()).absolute() if source is not None else config.artifact_source
    fields = {name: _value(name, task, suite, config) for name in SUITE_OVERRIDABLE}
    if fields["verify_command"] is None and fields["post_command"] is None:
        raise fail("verify_command", "the task needs evidence harnessgym gathers itself: a verify_command or a "
                                     "post_command (on the task, the suite or the command line)")  # fmt: skip
    try:
        return TaskSpec(name=task.name, split=task.split or suite.split or "test", workspace_template=template,
                        task_text=text, task_file=task_rel, artifact_source=artifact_source, **fields)  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(".".join(map(str, first["loc"])), first["msg"]) from None


def resolve_suite(config: CompareConfig) -> list[TaskSpec]:
    """The tasks of ``config.suite`` (only those of ``config.split`` when given), resolved."""
    assert config.suite is not None
    suite = load_suite(config.suite)
    specs = [_resolve_task(task, suite, config.suite.parent, config) for task in suite.tasks]
    if config.split is not None:
        chosen = [s for s in specs if s.split == config.split]
        if not chosen:
            splits = ", ".join(sorted({s.split for s in specs}))
            why = f"suite {config.suite} has no task in split {config.split!r}; its splits: {splits}"
            raise ConfigError(why, "split")
        specs = chosen
    return specs
