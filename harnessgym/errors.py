"""Every error harnessgym raises on purpose, in one tree.

::

    HarnessgymError                 what went wrong, to what, and what to do
    ├── ConfigError                 a configuration is invalid: which field, and what is wrong with it
    │   ├── DurationError           "45x" is not a duration; "0" is not a usable time limit
    │   ├── TaskNotFoundError       the task file cannot be read
    │   ├── UnknownRunnerError      no runner has that name
    │   └── NoRunnerError           no runner given and no agent CLI on the PATH
    ├── WorkspaceError              the workspace cannot be used
    │   ├── WorkspaceNotWritableError
    │   ├── DiskFullError           a record could not be written: no space left (also an OSError)
    │   └── WorkspaceLockedError    another run holds the workspace
    ├── RunNotFoundError            no run with that id in this workspace
    ├── ResumeError                 the run cannot be resumed (finished, config missing, ...)
    │   ├── ResumeOptionsError      options given with the resume that it cannot take (the task, the runner, ...)
    │   └── ContinueError           it cannot be continued by more iterations (still running, solved, ...)
    ├── CompareNotFoundError        no comparison in that output folder
    ├── NotRunningError             nothing runs that run or comparison now, so there is nothing to stop
    └── ArtifactError               an artifact operation cannot be done
        └── ArtifactNotFoundError

Agent misbehaviour (bad result.json, a crashing build, a failing self-test) is never an exception: it is
recorded as a problem of its iteration. Only the caller's mistakes and the environment's refusals raise.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ArtifactError",
    "ArtifactNotFoundError",
    "CompareNotFoundError",
    "ConfigError",
    "ContinueError",
    "DiskFullError",
    "DurationError",
    "HarnessgymError",
    "NoRunnerError",
    "NotRunningError",
    "ResumeError",
    "ResumeOptionsError",
    "RunNotFoundError",
    "TaskNotFoundError",
    "UnknownRunnerError",
    "WorkspaceError",
    "WorkspaceLockedError",
    "WorkspaceNotWritableError",
    "python_spelling",
]


class HarnessgymError(Exception):
    """The root of every error harnessgym raises on purpose. ``str(err)`` is a complete, actionable message."""


_MENTION = re.compile(r"\{([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)(?:=([^{}]*))?\}")
"""A field named inside a problem: ``{overwrite}`` or ``{require_active_harness=false}`` (a JSON value)."""

Spelling = Callable[[str, "str | None"], str]
"""How a front end writes a field, given its name (dotted when nested) and a JSON value or None."""


def python_spelling(field: str, value: str | None) -> str:
    """The library's own spelling: the field name, ``name=value`` with a value (as the tools spell them)."""
    return field if value is None else f"{field}={value}"


class ConfigError(HarnessgymError, ValueError):
    """A configuration is invalid: ``field`` (a config field, dotted when nested such as
    ``runner_options.fake_script``; None when no one field is at fault) and what is wrong with it.

    The library never spells a field as a front end does: ``problem`` names other fields as ``{name}`` or
    ``{name=value}``, and each front end renders the whole error in its own spelling with :meth:`render`
    (``--attempt-timeout: ...`` on the command line, ``attempt_timeout: ...`` in a tool error). ``str(err)``
    uses the field names. Several problems found at once travel as one error (``problems``). A ValueError, so a
    pydantic validator may raise it and the field survives the ValidationError (see :meth:`from_validation`).
    """

    def __init__(self, problem: str, field: str | None = None, *, more: Sequence[ConfigError] = ()) -> None:
        self.field = field
        self.problem = problem
        others = (p for other in more for p in other.problems)
        self.problems: tuple[tuple[str | None, str], ...] = ((field, problem), *others)
        super().__init__(self.render(python_spelling))

    def render(self, spell: Spelling) -> str:
        """Every problem on one line, each led by its field, with the fields written by ``spell``."""

        def mention(match: re.Match[str]) -> str:
            return spell(match[1], match[2])

        parts = []
        for field, problem in self.problems:
            text = _MENTION.sub(mention, problem)
            parts.append(f"{spell(field, None)}: {text}" if field else text)
        return "; ".join(parts)

    @classmethod
    def from_validation(cls, exc: Any) -> ConfigError:
        """A pydantic ``ValidationError`` as one ConfigError, a problem per error, each naming its field (a
        ConfigError raised inside a validator keeps its own field and problem)."""
        found: list[ConfigError] = []
        for err in exc.errors():
            cause = (err.get("ctx") or {}).get("error")
            loc = ".".join(str(part) for part in err["loc"]) or None
            if isinstance(cause, ConfigError):
                found.extend(ConfigError(p, f or loc) for f, p in cause.problems)
            else:
                found.append(ConfigError(str(err["msg"]).removeprefix("Value error, "), loc))
        if not found:
            return cls(str(exc))
        return cls(found[0].problem, found[0].field, more=found[1:])


class DurationError(ConfigError):
    """A duration could not be parsed, or is no usable time limit (0, negative, endless); the field is known where
    it is validated, not here."""

    def __init__(self, text: str, field: str | None = None, *, why: str | None = None) -> None:
        self.text = text
        self.why = why or "is not a duration; write seconds ('90', '2.5') or units like '90s', '45m', '1h30m'"
        """Why, as the end of a sentence that starts with the text."""
        super().__init__(f"{text!r} {self.why}", field)


class TaskNotFoundError(ConfigError):
    def __init__(self, path: Path, reason: str = "no such file") -> None:
        self.path = path
        super().__init__(
            f"task file {path} cannot be read ({reason}); pass an existing file or {{task_text}}", "task_path"
        )


class UnknownRunnerError(ConfigError):
    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown runner {name!r}; choose one of: {', '.join(known)}", "runner")


class NoRunnerError(ConfigError):
    """``runner="auto"`` found no agent CLI to run: the choice is the user's, never a silent fake agent."""

    def __init__(self, looked_for: tuple[str, ...]) -> None:
        self.looked_for = looked_for
        super().__init__(
            f"no agent CLI found on the PATH (looked for {', '.join(looked_for)}) and none chosen; choose one: "
            "{runner=codex} (OpenAI Codex, also {runner=exec}), {runner=claude} (Claude Code), or {runner=fake} "
            "(the offline scripted agent, for trying harnessgym out); {runner_options.codex_bin} and "
            "{runner_options.claude_bin} name a binary that is not on the PATH",
            "runner",
        )


class WorkspaceError(HarnessgymError):
    """The workspace cannot be used."""

    def __init__(self, workspace: Path, message: str) -> None:
        self.workspace = workspace
        super().__init__(message)


class WorkspaceNotWritableError(WorkspaceError):
    def __init__(self, workspace: Path, reason: str) -> None:
        super().__init__(
            workspace,
            f"workspace {workspace} is not writable ({reason}); choose a writable workspace or fix its permissions",
        )


NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"  # pragma: no cover - the loop always returns


def free_bytes(path: Path) -> int | None:
    """Free space for an unprivileged writer on ``path``'s file system (its nearest existing folder)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        st = os.statvfs(probe)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


class DiskFullError(WorkspaceError, OSError):
    """No space was left to write ``path``. Everything written before is intact (records are replaced
    atomically), so the run can be resumed once space is freed."""

    def __init__(self, path: Path, needed: int | None = None, workspace: Path | None = None) -> None:
        self.path = path
        self.needed = needed
        self.free = free_bytes(path)
        free = "unknown" if self.free is None else _size(self.free)
        need = f"it needs {_size(needed)}, " if needed is not None else "it needs more than what is left: "
        message = (f"no space left on the disk to write {path} ({need}{free} free there); free some space, "
                   "then continue with --resume: everything recorded so far is kept")  # fmt: skip
        self.message = message
        WorkspaceError.__init__(self, workspace or path, message)
        OSError.__init__(self, errno.ENOSPC, message, str(path))  # last: it sets errno and filename

    def __str__(self) -> str:
        return self.message


class WorkspaceLockedError(WorkspaceError):
    def __init__(self, workspace: Path, holder: str) -> None:
        self.holder = holder
        super().__init__(
            workspace,
            f"workspace {workspace} is in use by another harnessgym run ({holder}); wait for it to finish, "
            "stop it, or use another workspace",
        )


class RunNotFoundError(HarnessgymError):
    def __init__(self, workspace: Path, run_id: str) -> None:
        self.workspace = workspace
        self.run_id = run_id
        super().__init__(
            f"no run {run_id!r} in {workspace}/.harnessgym/runs; `harnessgym runs list --workspace {workspace}` "
            "shows the runs there (serve: list_runs)"
        )


class ResumeError(HarnessgymError):
    verb = "resumed"

    def __init__(self, run_id: str, reason: str) -> None:
        self.run_id = run_id
        self.reason = reason
        super().__init__(f"run {run_id!r} cannot be {self.verb}: {reason}")


class ResumeOptionsError(ResumeError):
    """Options given with a resume that differ from the run's and cannot change mid-run."""

    def __init__(
        self, run_id: str, refused: dict[str, tuple[object, object]], spell: Callable[[str], str] = str
    ) -> None:
        self.refused = refused
        parts = [f"{spell(name)} ({given!r}; the run has {saved!r})" for name, (given, saved) in refused.items()]
        super().__init__(
            run_id,
            f"it keeps its own {', '.join(parts)}; drop them to resume as it was (time limits and a higher "
            "iteration count can change), or start a new run with them",
        )


class ContinueError(ResumeError):
    verb = "continued"


class ArtifactError(HarnessgymError):
    def __init__(self, artifact_id: str, message: str) -> None:
        self.artifact_id = artifact_id
        super().__init__(message)


class ArtifactNotFoundError(ArtifactError):
    def __init__(self, artifact_id: str, workspace: Path) -> None:
        super().__init__(
            artifact_id,
            f"no artifact {artifact_id!r} in {workspace}/.harnessgym/registry.json; `harnessgym artifacts list "
            f"--workspace {workspace}` shows them (serve: list_artifacts)",
        )


class CompareNotFoundError(HarnessgymError):
    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        super().__init__(f"no comparison in {output_dir}: it holds neither compare_report.json nor trials")


class NotRunningError(HarnessgymError):
    """A cancel found nothing to stop. ``holder_pid``: a process that is not a harnessgym job holds the folder
    (a comparison run in-process elsewhere): stop it there."""

    def __init__(self, what: str, status: str, holder_pid: int | None = None) -> None:
        self.what = what
        self.status = status
        self.holder_pid = holder_pid
        elsewhere = f"; process {holder_pid} is running it: stop that process" if holder_pid is not None else ""
        super().__init__(f"{what} is not running (status {status}){elsewhere}")
