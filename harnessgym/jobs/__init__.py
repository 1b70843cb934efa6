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
