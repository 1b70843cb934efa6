"""harnessgym: run a coding agent on a task, let it build the instruments it missed, qualify them, and hand
them to the next fresh session.

Public names are loaded on first use, so ``harnessgym --help`` does not pay for pydantic or the MCP SDK.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: `mcp call` must not pay for importing typing

if TYPE_CHECKING:
    from typing import Any

    from harnessgym.artifacts.manage import (
        list_artifacts,
        promote_artifact,
        qualify_artifact,
        quarantine_artifact,
    )
    from harnessgym.artifacts.registry import ArtifactEntry, ArtifactVerdict
    from harnessgym.config import RunConfig
    from harnessgym.duration import Duration, parse_duration
    from harnessgym.errors import (
        ArtifactError,
        ArtifactNotFoundError,
        CompareNotFoundError,
        ConfigError,
        ContinueError,
        DurationError,
        HarnessgymError,
        NotRunningError,
        ResumeError,
        RunNotFoundError,
        TaskNotFoundError,
        UnknownRunnerError,
        WorkspaceError,
        WorkspaceLockedError,
        WorkspaceNotWritableError,
    )
    from harnessgym.events import RunEvent, RunInfo
    from harnessgym.evidence.verify import score_workspace
    from harnessgym.jobs import (
        CompareInfo,
        CompareStatus,
        JobRecord,
        cancel_compare,
        cancel_compare_async,
        compare,
        compare_async,
        get_compare,
        list_compares,
    )
    from harnessgym.jobs.api import (
        cancel_run,
        cancel_run_async,
        continue_async,
        continue_run,
        interrupt_run,
        resume,
        resume_async,
        run,
        run_async,
    )
    from harnessgym.jobs.runs import get_run, list_runs
    from harnessgym.records import IterationRecord, RunSummary, Verdict

__all__ = [
    "ArtifactEntry",
    "ArtifactError",
    "ArtifactNotFoundError",
    "ArtifactVerdict",
    "CompareInfo",
    "CompareNotFoundError",
    "CompareStatus",
    "ConfigError",
    "ContinueError",
    "Duration",
    "DurationError",
    "HarnessgymError",
    "IterationRecord",
    "JobRecord",
    "NotRunningError",
    "ResumeError",
    "RunConfig",
    "RunEvent",
    "RunInfo",
    "RunNotFoundError",
    "RunSummary",
    "TaskNotFoundError",
    "UnknownRunnerError",
    "Verdict",
    "WorkspaceError",
    "WorkspaceLockedError",
    "WorkspaceNotWritableError",
    "__version__",
    "cancel_compare",
    "cancel_compare_async",
    "cancel_run",
    "cancel_run_async",
    "compare",
    "compare_async",
    "continue_async",
    "continue_run",
    "get_compare",
    "get_run",
    "interrupt_run",
    "list_artifacts",
    "list_compares",
    "list_runs",
    "parse_duration",
    "promote_artifact",
    "qualify_artifact",
    "quarantine_artifact",
    "resume",
    "resume_async",
    "run",
    "run_async",
    "score_workspace",
]

_HOME: dict[str, str] = {
    **dict.fromkeys(
        [
            "cancel_run",
            "cancel_run_async",
            "continue_async",
            "continue_run",
            "interrupt_run",
            "resume",
            "resume_async",
            "run",
            "run_async",
        ],
        "harnessgym.jobs.api",
    ),
    **dict.fromkeys(
        [
            "CompareInfo",
            "CompareStatus",
            "JobRecord",
            "cancel_compare",
            "cancel_compare_async",
            "compare",
            "compare_async",
            "get_compare",
            "list_compares",
        ],
        "harnessgym.jobs",
    ),
    **dict.fromkeys(
        ["list_artifacts", "promote_artifact", "qualify_artifact", "quarantine_artifact"], "harnessgym.artifacts.manage"
    ),
    "RunConfig": "harnessgym.config",
    "Duration": "harnessgym.duration",
    "parse_duration": "harnessgym.duration",
    **dict.fromkeys([n for n in __all__ if n.endswith("Error")], "harnessgym.errors"),
    "RunEvent": "harnessgym.events",
    "RunInfo": "harnessgym.events",
    **dict.fromkeys(["IterationRecord", "RunSummary", "Verdict"], "harnessgym.records"),
    "ArtifactEntry": "harnessgym.artifacts.registry",
    "ArtifactVerdict": "harnessgym.artifacts.registry",
    "get_run": "harnessgym.jobs.runs",
    "list_runs": "harnessgym.jobs.runs",
    "score_workspace": "harnessgym.evidence.verify",
    "__version__": "mcp_host",  # one version for the three packages, from the distribution's metadata
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'harnessgym' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
