"""Every error harnessgym raises on purpose, in one tree.

::

    HarnessgymError                 what went wrong, to what, and what to do
    ├── ConfigError                 a run cannot start with this configuration
    │   ├── DurationError           "45x" is not a duration
    │   ├── TaskNotFoundError       --task names no readable file
    │   └── UnknownRunnerError      --runner names no runner
    ├── WorkspaceError              the workspace cannot be used
    │   ├── WorkspaceNotWritableError
    │   └── WorkspaceLockedError    another run holds the workspace
    ├── RunNotFoundError            no run with that id in this workspace
    ├── ResumeError                 the run cannot be resumed (finished, config missing, ...)
    │   └── ContinueError           it cannot be continued by more iterations (still running, solved, ...)
    └── ArtifactError               an artifact operation cannot be done
        └── ArtifactNotFoundError

Agent misbehaviour (bad result.json, a crashing build, a failing self-test) is never an exception: it is
recorded as a problem of its iteration. Only the caller's mistakes and the environment's refusals raise.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ArtifactError",
    "ArtifactNotFoundError",
    "ConfigError",
    "ContinueError",
    "DurationError",
    "HarnessgymError",
    "ResumeError",
    "RunNotFoundError",
    "TaskNotFoundError",
    "UnknownRunnerError",
    "WorkspaceError",
    "WorkspaceLockedError",
    "WorkspaceNotWritableError",
]


class HarnessgymError(Exception):
    """The root of every error harnessgym raises on purpose. ``str(err)`` is a complete, actionable message."""


class ConfigError(HarnessgymError):
    """The run configuration is invalid."""


class DurationError(ConfigError, ValueError):
    """A duration string could not be parsed."""

    def __init__(self, text: str, reason: str = "") -> None:
        self.text = text
        self.reason = reason
        """Why a well-formed value is refused (zero, negative, not finite); empty when it did not parse."""
        super().__init__(
            f"{text!r} is not allowed: {reason}" if reason else
            f"{text!r} is not a duration; write seconds ('90', '2.5') or units like '90s', '45m', '1h30m'"
        )


class TaskNotFoundError(ConfigError):
    def __init__(self, path: Path, reason: str = "no such file") -> None:
        self.path = path
        super().__init__(f"task file {path} cannot be read ({reason}); pass an existing file or use --task-text")


class UnknownRunnerError(ConfigError):
    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown runner {name!r}; choose one of: {', '.join(known)}")


class WorkspaceError(HarnessgymError):
    """The workspace cannot be used."""

    def __init__(self, workspace: Path, message: str) -> None:
        self.workspace = workspace
        super().__init__(message)


class WorkspaceNotWritableError(WorkspaceError):
    def __init__(self, workspace: Path, reason: str) -> None:
        super().__init__(
            workspace,
            f"workspace {workspace} is not writable ({reason}); choose a writable --workspace or fix its permissions",
        )


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
