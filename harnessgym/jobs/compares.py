"""Comparisons as the library sees them: run one (:func:`compare_async`), read any from its output folder
(:func:`get_compare`, :func:`list_compares`), stop one a job worker runs (:func:`cancel_compare_async`).

The output folder is the record: each ``trial.json`` as its trial ends, ``compare_report.json`` at the end
(also when cancelled), the lock while something runs it, and the jobs that ran it. So a comparison started by
another process, or before a restart, reads the same as one started here.
"""

from __future__ import annotations

from pathlib import Path

import anyio

from harnessgym import store
from harnessgym.compare import CompareConfig, CompareReport, OutputLayout, TrialHandler
from harnessgym.compare import compare_async as _compare_async
from harnessgym.compare.models import GROUPS, TrialRecord
from harnessgym.errors import CompareNotFoundError, NotRunningError
from harnessgym.events import EventHandler
from harnessgym.jobs.manager import JOBS
from harnessgym.jobs.models import CompareInfo, CompareStatus, JobRecord
from harnessgym.store.layout import Layout

__all__ = [
    "cancel_compare",
    "cancel_compare_async",
    "compare",
    "compare_async",
    "disk_trials",
    "get_compare",
    "list_compares",
]

_LIST_DEPTH = 2


async def compare_async(
    config: CompareConfig, on_trial: TrialHandler | None = None, on_event: EventHandler | None = None
) -> CompareReport:
    """Run every trial in a randomized order and return the report (also written to the output folder).
    Cancelling stops the running trial, writes an ``interrupted`` report of the finished trials, and
    propagates."""
    return await _compare_async(config, on_trial, on_event)


def compare(
    config: CompareConfig, on_trial: TrialHandler | None = None, on_event: EventHandler | None = None
) -> CompareReport:
    """Blocking twin of :func:`compare_async`."""
    return anyio.run(_compare_async, config, on_trial, on_event)


def disk_trials(out: Path) -> tuple[list[TrialRecord], int]:
    """Every readable ``trial.json`` under the output folder, in run order, and how many trial folders exist
    (a trial's folder is there from its start)."""
    layout = OutputLayout(out)
    found, started = [], 0
    for group in GROUPS:
        for trial_dir in sorted(layout.group_dir(group).glob("trial_*")):
            started += 1
            record = store.read_model(trial_dir / "trial.json", TrialRecord)
            if record is not None:
                found.append(record)
    return sorted(found, key=lambda r: (r.position, r.group, r.index)), started


def _holder(out: Path) -> int | None:
    holder = store.lock_holder(Layout(out))
    return holder[0] if holder is not None else None


def _from_job(out: Path, job: JobRecord) -> CompareInfo:
    """A comparison whose job worker is alive, or stopped with an error (which only the job knows)."""
    records, started = disk_trials(out)
    assert job.spec.action == "compare"
    status: CompareStatus = "running" if JOBS.is_alive(job) else "error"
    running, last = None, None
    if status == "running":
        for event in reversed(JOBS.events(job)):
            if event.trial is not None:
                running = None if event.trial.finished else event.trial
                break
            if last is None and event.run_event is not None:
                last = event.message
    return CompareInfo(
        output_dir=out, status=status, live=status == "running", error=job.error, trials=records,
        trials_started=started, trials_planned=2 * job.spec.config.trials, running_trial=running,
        last_event=last if running is not None else None, job=job,
    )  # fmt: skip


def get_compare(output_dir: Path) -> CompareInfo:
    """The comparison in ``output_dir``: running (a job worker runs it, or another process holds the folder),
    completed, interrupted, error or unfinished, with its trials so far and its report once written. An ended
    one reads the same whoever started it: from its report, else from its trials. Raises
    :class:`CompareNotFoundError` when the folder holds no comparison."""
    out = Path(output_dir).absolute()
    job = JOBS.latest(out, "compare")
    holder = _holder(out)
    if job is not None and holder is not None and holder != job.pid:
        job = None  # another process runs a comparison here now; the job is an earlier one's
    if job is not None and (JOBS.is_alive(job) or job.status == "error"):
        return _from_job(out, job)
    layout = OutputLayout(out)
    report = store.read_model(layout.report, CompareReport)
    stale = report is not None and job is not None and report.created_at < job.started_at
    if stale:
        report = None  # an earlier comparison's: the latest one stopped before it wrote its own
    records, started = disk_trials(out)
    status: CompareStatus
    error = None
    if report is not None:
        status = report.status
    elif layout.report.exists() and not stale:
        status, error = "error", f"{layout.report} exists but cannot be read as a comparison report"
    elif started and holder is not None:
        status = "running"  # by another process (``harnessgym compare``, a library caller): it holds the lock
    elif started or job is not None:
        status = "unfinished"
    else:
        raise CompareNotFoundError(out)
    total = len(report.order) if report is not None else None
    return CompareInfo(
        output_dir=out, status=status, live=False, error=error, trials=report.trials if report else records,
        trials_started=started, trials_planned=total, report=report, holder_pid=holder, job=job,
    )  # fmt: skip


def _is_output_dir(folder: Path) -> bool:
    layout = OutputLayout(folder)
    return (
        layout.report.is_file()
        or any(layout.group_dir(g).is_dir() for g in GROUPS)
        or bool(JOBS.jobs(folder, "compare"))
    )


def list_compares(root: Path) -> list[CompareInfo]:
    """Every comparison whose output folder is ``root`` or lies up to two levels below it, by folder name."""
    root = Path(root).absolute()
    found: list[Path] = []
    level = [root]
    for _ in range(_LIST_DEPTH + 1):
        found += [d for d in level if _is_output_dir(d)]
        level = [c for d in level if d not in found for c in _subdirs(d)]
    infos = []
    for out in sorted(found):
        try:
            infos.append(get_compare(out))
        except CompareNotFoundError:
            continue
    return infos


def _subdirs(folder: Path) -> list[Path]:
    try:
        return sorted(d for d in folder.iterdir() if d.is_dir() and not d.is_symlink() and not d.name.startswith("."))
    except OSError:
        return []


async def cancel_compare_async(output_dir: Path, *, wait: float = 30.0) -> CompareInfo:
    """Stop the comparison a job worker runs in ``output_dir``: the running trial's agent is stopped and an
    ``interrupted`` report of the finished trials is written. Waits up to ``wait`` seconds for the worker to
    exit (``status`` is still ``running`` if it had not). Raises :class:`NotRunningError` when no job runs it;
    a comparison another process runs in-process is named by its ``holder_pid`` and is stopped there."""
    out = Path(output_dir).absolute()
    job = JOBS.latest(out, "compare")
    if job is None or not await JOBS.cancel(job, wait):
        info = get_compare(out)
        raise NotRunningError(f"the comparison in {out}", info.status, info.holder_pid)
    return get_compare(out)


def cancel_compare(output_dir: Path, *, wait: float = 30.0) -> CompareInfo:
    """Blocking twin of :func:`cancel_compare_async`."""
    return anyio.run(lambda: cancel_compare_async(output_dir, wait=wait))
