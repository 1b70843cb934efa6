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
    ├── CompareNotFoundError        no comparison in that output folder
    ├── NotRunningError             nothing runs that run or comparison now, so there is nothing to stop
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
    "CompareNotFoundError",
    "ConfigError",
    "ContinueError",
    "DurationError",
    "HarnessgymError",
    "NotRunningError",
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

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(
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
            f"no run {run_id!r} in {workspace}/.harnessgym/runs; list runs with harnessgym.list_runs or check the id"
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
            f"no artifact {artifact_id!r} in {workspace}/.harnessgym/registry.json; list them with list_artifacts",
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
