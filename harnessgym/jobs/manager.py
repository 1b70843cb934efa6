"""The job manager: starts runs and comparisons as detached worker processes and finds them again from disk.

A job's worker (:mod:`harnessgym.jobs.worker`) runs in its own session with stdin on /dev/null and its output
in its folder, so it goes on when the client that asked for it disconnects or the process that started it
exits. Everything about a job is on disk (``.harnessgym/jobs/<job_id>/`` of the run's workspace or the
comparison's output folder), so any later process follows it, and stops it by its recorded pid once the pid is
verified to still be that worker: same start time, and the job's tag in its environment. A forged or stale
record therefore never gets a signal sent to someone else's process.

It never reads a job's files through paths the record claims (an agent could forge them): they are computed
from the folder the record was found in.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import anyio

from harnessgym import store
from harnessgym.jobs.models import JobEvent, JobKind, JobOutcome, JobRecord, JobSpec
from harnessgym.store.layout import JobLayout, Layout
from mcp_host import PROC_TAG_VAR, carries_tag, is_running, reap, spawn_detached, start_time, wait_exited

__all__ = ["JOBS", "JobFollower", "JobManager", "job_target"]

_POLL_SECONDS = 0.2
"""How often a follower looks for new lines in a job's events file (another process appends them)."""
_TAG_PREFIX = "job-"
_EVENTS_SCAN_BYTES = 1 << 20
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""Held back from the worker's start until it handles them, so a cancel while it still imports the library
stops it cleanly (recorded, resumable) instead of killing it."""


def job_target(spec: JobSpec) -> tuple[JobKind, Path, str]:
    """(kind, the folder whose ``.harnessgym`` holds the job, the key: run id or output folder)."""
    if spec.action == "compare":
        out = spec.config.output_dir.absolute()
        return "compare", out, str(out)
    if spec.action == "run":
        return "run", spec.config.workspace.absolute(), spec.config.run_id
    return "run", spec.workspace.absolute(), spec.run_id


class JobManager:
    """Starts jobs and reads them back. One per process (:data:`JOBS`): it also collects the exits of the
    workers this process started, so none is left a zombie while this process lives on."""

    def __init__(self) -> None:
        self._children: set[int] = set()

    def start(self, spec: JobSpec) -> JobRecord:
        """Start a worker for ``spec`` and return its record at once (see :meth:`wait_started`)."""
        kind, folder, key = job_target(spec)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        job_id = f"{kind}-{stamp}-{secrets.token_hex(4)}"
        root = Layout(folder).jobs
        if root.is_symlink() or (root.exists() and not root.is_dir()):
            # An agent put something else here; keep it aside rather than write through a link.
            os.replace(root, root.with_name(f"jobs.displaced-{os.getpid()}"))
        layout = Layout(folder).job(job_id)
        layout.dir.mkdir(parents=True)
        store.write_atomic(layout.spec, spec.model_dump_json(indent=2) + "\n")
        tag = f"{_TAG_PREFIX}{job_id}"
        argv = [sys.executable, "-I", "-m", "harnessgym.jobs.worker", str(layout.dir)]
        pid = spawn_detached(argv, cwd=folder, env={**os.environ, PROC_TAG_VAR: tag}, log_path=layout.stderr,
                             stdout_path=layout.stdout, hold_signals=_STOP_SIGNALS)  # fmt: skip
        self._children.add(pid)
        record = JobRecord(
            job_id=job_id, kind=kind, key=key, folder=folder, job_dir=layout.dir, spec=spec, pid=pid,
            proc_start=start_time(pid), tag=tag, stdout_log=layout.stdout, stderr_log=layout.stderr,
            events_path=layout.events,
        )  # fmt: skip
        store.write_model(layout.record, record)
        return record

    # -- reading back ------------------------------------------------------------------------------------

    def read(self, job_dir: Path) -> JobRecord | None:
        """The job in ``job_dir`` with its status derived; None when it holds no readable record."""
        self.reap()
        layout = JobLayout(job_dir)
        record = store.read_model(layout.record, JobRecord)
        if record is None:
            return None
        outcome = store.read_model(layout.outcome, JobOutcome)
        record = record.model_copy(update={
            "job_dir": job_dir, "stdout_log": layout.stdout, "stderr_log": layout.stderr,
            "events_path": layout.events, "outcome": outcome,
        })  # fmt: skip
        status = outcome.status if outcome is not None else "running" if self.is_alive(record) else "lost"
        return record.model_copy(update={"status": status})

    def refresh(self, record: JobRecord) -> JobRecord:
        return self.read(record.job_dir) or record

    def jobs(self, folder: Path, kind: JobKind | None = None, key: str | None = None) -> list[JobRecord]:
        """The jobs kept in ``folder``'s ``.harnessgym/jobs`` (of ``kind`` and ``key``), oldest first."""
        folder = folder.absolute()
        root = Layout(folder).jobs
        if root.is_symlink():
            return []
        try:
            dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.is_symlink())
        except OSError:
            return []
        found = []
        for job_dir in dirs:
            record = self.read(job_dir)
            if record is None or record.folder != folder or record.job_id != job_dir.name:
                continue  # not a record this folder's jobs wrote (copied or forged): never act on it
            if (kind is None or record.kind == kind) and (key is None or record.key == key):
                found.append(record)
        return sorted(found, key=lambda r: r.started_at)

    def latest(self, folder: Path, kind: JobKind, key: str | None = None) -> JobRecord | None:
        """The newest job of ``kind`` (and ``key``) in ``folder``, refusals left out (they changed nothing)."""
        found = [r for r in self.jobs(folder, kind, key) if not r.refused]
        return found[-1] if found else None

    def is_alive(self, record: JobRecord) -> bool:
        """Whether the recorded worker still runs and is that worker: the pid's start time and the job's tag
        in its environment match, so a reused pid or a forged record does not count."""
        pid = record.pid
        return (
            record.tag.startswith(_TAG_PREFIX)
            and record.proc_start is not None
            and is_running(pid)
            and start_time(pid) == record.proc_start
            and carries_tag(pid, record.tag)
        )

    def events(self, record: JobRecord) -> list[JobEvent]:
        """The job's progress events so far (up to the first MiB of them)."""
        found, _ = store.read_lines(JobLayout(record.job_dir).events, JobEvent, limit=_EVENTS_SCAN_BYTES)
        return found

    def follow(self, record: JobRecord, *, from_start: bool = False) -> JobFollower:
        """A follower of the job's events from now on (``from_start``: from its first)."""
        offset = 0
        if not from_start:
            _, offset = store.read_lines(JobLayout(record.job_dir).events, JobEvent, limit=1 << 40)
        return JobFollower(self, record, offset)

    # -- waiting and stopping ----------------------------------------------------------------------------

    async def wait_started(self, record: JobRecord, timeout: float) -> JobRecord:
        """Wait until the job emitted its first event or its worker ended (a refusal), up to ``timeout``."""
        events = JobLayout(record.job_dir).events
        with anyio.move_on_after(timeout):
            while self.is_alive(record) and not store.read_lines(events, JobEvent, limit=65536)[0]:
                await wait_exited(record.pid, _POLL_SECONDS)
        if not self.is_alive(record):
            await self.wait(record, 5.0)  # it is on its way out: let it finish writing its outcome
        return self.refresh(record)

    async def wait(self, record: JobRecord, timeout: float | None = None) -> JobRecord:
        """Wait until the job's worker has exited (up to ``timeout``) and return the record read again."""
        if record.proc_start is not None and start_time(record.pid) == record.proc_start:
            await wait_exited(record.pid, timeout)
        return self.refresh(record)

    async def cancel(self, record: JobRecord, wait: float = 30.0) -> bool:
        """Stop the job the way Ctrl-C would (SIGTERM: the library stops the agent's tree, records the
        interruption and leaves the run resumable) and wait up to ``wait`` seconds for its worker to exit.
        False when the worker is not running (or is not the recorded one); True once it has exited, or is
        still stopping when ``wait`` ran out (:meth:`is_alive` tells which)."""
        if not self.is_alive(record):
            return False
        try:
            os.kill(record.pid, signal.SIGTERM)
        except ProcessLookupError:
            return True
        await wait_exited(record.pid, wait)
        self.reap()
        return True

    def reap(self) -> None:
        """Collect the exits of this process's workers that have ended."""
        for pid in list(self._children):
            if reap(pid) or not is_running(pid):
                self._children.discard(pid)

    async def wait_children(self, timeout: float) -> list[int]:
        """Wait (up to ``timeout`` in all) for every worker this process started to exit, collecting each;
        return those still running. For a process that must not leave them behind (tests)."""
        with anyio.move_on_after(timeout):
            for pid in list(self._children):
                await wait_exited(pid)
        self.reap()
        return sorted(self._children)


class JobFollower:
    """Reads a job's new events as another process appends them."""

    def __init__(self, manager: JobManager, record: JobRecord, offset: int) -> None:
        self._manager = manager
        self.record = record
        self._offset = offset
        self.count = 0
        """Events read so far."""
        self.last: JobEvent | None = None

    @property
    def running(self) -> bool:
        return self._manager.is_alive(self.record)

    async def next(self, timeout: float) -> list[JobEvent]:
        """The events appended since the last call, as soon as there are any; [] after ``timeout`` seconds or
        once the worker has ended (after a last read of what it wrote on its way out)."""
        path = JobLayout(self.record.job_dir).events
        with anyio.move_on_after(timeout):
            while True:
                running = self.running
                events, self._offset = store.read_lines(path, JobEvent, self._offset)
                if events or not running:
                    if not running:
                        self._manager.reap()
                    self.count += len(events)
                    self.last = events[-1] if events else self.last
                    return events
                await wait_exited(self.record.pid, _POLL_SECONDS)
        return []


JOBS = JobManager()
"""This process's job manager."""
