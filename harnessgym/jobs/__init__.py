"""Long jobs as the library owns them: runs and comparisons, in this process or as detached workers.

* :mod:`~harnessgym.jobs.api`: start, resume, continue and cancel runs; :mod:`~harnessgym.jobs.runs`: runs as
  seen from disk; :mod:`~harnessgym.jobs.orphans`: cleaning up after killed ones.
* :mod:`~harnessgym.jobs.models`: the records (:class:`JobRecord`, the job specs, :class:`JobEvent`,
  :class:`CompareInfo`).
* :mod:`~harnessgym.jobs.manager`: :data:`JOBS`, the one job manager: it starts workers, reads jobs back from
  disk, follows their events and stops them by their verified pid.
* :mod:`~harnessgym.jobs.worker`: the worker process itself.
* :mod:`~harnessgym.jobs.compares`: ``compare``/``get_compare``/``list_compares``/``cancel_compare``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harnessgym.jobs.compares import (
        cancel_compare,
        cancel_compare_async,
        compare,
        compare_async,
        disk_trials,
        get_compare,
        list_compares,
    )
    from harnessgym.jobs.manager import JOBS, JobFollower, JobManager, job_target
    from harnessgym.jobs.models import (
        CompareInfo,
        CompareJob,
        CompareStatus,
        ContinueJob,
        JobEvent,
        JobKind,
        JobOutcome,
        JobRecord,
        JobSpec,
        JobStatus,
        ResumeJob,
        RunJob,
        TrialProgress,
    )

__all__ = [
    "JOBS",
    "CompareInfo",
    "CompareJob",
    "CompareStatus",
    "ContinueJob",
    "JobEvent",
    "JobFollower",
    "JobKind",
    "JobManager",
    "JobOutcome",
    "JobRecord",
    "JobSpec",
    "JobStatus",
    "ResumeJob",
    "RunJob",
    "TrialProgress",
    "cancel_compare",
    "cancel_compare_async",
    "compare",
    "compare_async",
    "disk_trials",
    "get_compare",
    "job_target",
    "list_compares",
]

_HOME: dict[str, tuple[str, str]] = {
    "CompareInfo": ("harnessgym.jobs.models", "CompareInfo"),
    "CompareJob": ("harnessgym.jobs.models", "CompareJob"),
    "CompareStatus": ("harnessgym.jobs.models", "CompareStatus"),
    "ContinueJob": ("harnessgym.jobs.models", "ContinueJob"),
    "JOBS": ("harnessgym.jobs.manager", "JOBS"),
    "JobEvent": ("harnessgym.jobs.models", "JobEvent"),
    "JobFollower": ("harnessgym.jobs.manager", "JobFollower"),
    "JobKind": ("harnessgym.jobs.models", "JobKind"),
    "JobManager": ("harnessgym.jobs.manager", "JobManager"),
    "JobOutcome": ("harnessgym.jobs.models", "JobOutcome"),
    "JobRecord": ("harnessgym.jobs.models", "JobRecord"),
    "JobSpec": ("harnessgym.jobs.models", "JobSpec"),
    "JobStatus": ("harnessgym.jobs.models", "JobStatus"),
    "ResumeJob": ("harnessgym.jobs.models", "ResumeJob"),
    "RunJob": ("harnessgym.jobs.models", "RunJob"),
    "TrialProgress": ("harnessgym.jobs.models", "TrialProgress"),
    "cancel_compare": ("harnessgym.jobs.compares", "cancel_compare"),
    "cancel_compare_async": ("harnessgym.jobs.compares", "cancel_compare_async"),
    "compare": ("harnessgym.jobs.compares", "compare"),
    "compare_async": ("harnessgym.jobs.compares", "compare_async"),
    "disk_trials": ("harnessgym.jobs.compares", "disk_trials"),
    "get_compare": ("harnessgym.jobs.compares", "get_compare"),
    "job_target": ("harnessgym.jobs.manager", "job_target"),
    "list_compares": ("harnessgym.jobs.compares", "list_compares"),
}
"""Where each public name lives: loaded on first use, so a command that needs one corner of the package (the
``mcp call`` client, the process helper) does not import all of it (pydantic, the router, the supervisor)."""


def __getattr__(name: str) -> Any:
    try:
        module, attr = _HOME[name]
    except KeyError:
        raise AttributeError(f"module 'harnessgym' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
