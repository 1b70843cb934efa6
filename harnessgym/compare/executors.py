"""Where a comparison's trials run: the executor seam.

The scheduler (:mod:`harnessgym.compare.trials`) decides *which* trials run, in what order, how many at once,
when to retry and when the budget is spent. An :class:`Executor` decides *where* one trial runs. The contract:

* A trial is fully described by a :class:`TrialJob`: a frozen, JSON-serialisable model holding the resolved
  task (:class:`~harnessgym.compare.spec.TaskSpec`: template, task text, verify/post commands, timeouts ...),
  the arm, the runner and its options, the bundle to copy artifacts from and what to leave out of it.
* Running it needs only the job and an empty folder, the *trial folder*:
  :func:`harnessgym.compare.trial_worker.run_trial_job` (``await run_trial_job(job, trial_dir)``), or from a
  fresh interpreter ``python -I -m harnessgym.compare.trial_worker JOB.json TRIAL_DIR``. It copies the template
  to ``TRIAL_DIR/workspace``, copies the bundle's artifacts (harnessed arms), seeds an agent home of its own
  under ``TRIAL_DIR/home`` from the executing user's, runs the attempt-only session, runs the post command,
  measures, and as its very last step writes ``TRIAL_DIR/trial.json`` (a
  :class:`~harnessgym.compare.models.TrialRecord`) atomically. Everything the trial produced (records,
  transcripts, MCP telemetry, the agent's home) is inside ``TRIAL_DIR``.
* :meth:`Executor.run` returns that record. It must not raise for a failing trial: a trial that could not be
  run (the worker died, the process could not start, a node was lost) comes back as a record with
  ``valid=False, invalid_kind="infra_error"`` (see :func:`infra_record`), which the scheduler retries up to
  ``--max-retries`` times. Cancellation must stop the trial (kill its processes) and propagate.
* An executor on other machines (Ray) ships ``job.spec.workspace_template`` and ``job.bundle_dir`` to the
  worker, rewrites them in the job with ``model_copy(update=...)`` (and ``runner_options.fake_script`` if the
  fake runner is used), runs ``run_trial_job`` there, and ships the trial folder back into ``trial_dir``;
  :func:`relocate_record` then rewrites the paths in the record from the worker's folder to ``trial_dir``.
* :meth:`Executor.open` is awaited once before the first trial and raises
  :class:`~harnessgym.errors.ConfigError` when the executor cannot work at all (a cluster that does not
  answer), so the comparison is refused before anything is written; :meth:`Executor.aclose` at the end.

Executors here: ``local`` runs trials in this process (concurrent ones share the event loop; each has its own
workspace and agent home); ``process`` runs each in a fresh ``python -I`` process (what a remote worker does),
whose run events come back through ``TRIAL_DIR/events.jsonl`` (:mod:`harnessgym.compare.trial_events`);
``ray`` (:mod:`harnessgym.compare.ray_executor`, Ray imported only then) runs each as a task on a Ray cluster.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from harnessgym.artifacts.registry import QualificationReport
from harnessgym.compare.models import Group, TrialKey, TrialRecord
from harnessgym.compare.spec import TaskSpec
from harnessgym.events import EventHandler
from harnessgym.records import utcnow
from runners import RunnerOptions

if TYPE_CHECKING:
    from harnessgym.compare.bundle import BundleCheck

__all__ = [
    "EXECUTOR_NAMES",
    "BundleVerdicts",
    "Executor",
    "LocalExecutor",
    "ProcessExecutor",
    "TrialJob",
    "infra_record",
    "make_executor",
    "relocate_record",
]

ExecutorName = Literal["local", "process", "ray"]
EXECUTOR_NAMES: tuple[ExecutorName, ...] = ("local", "process", "ray")
RECORD_NAME = "trial.json"
JOB_NAME = "job.json"


class BundleVerdicts(BaseModel):
    """The bundle's qualification (:class:`~harnessgym.compare.bundle.BundleCheck`), as a job carries it: done
    once before any trial, applied to each harnessed trial's copy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    report: QualificationReport | None = None
    """The qualification report of the bundle's artifacts."""
    report_path: Path | None = None
    """Where it was written (on the machine that planned the trial)."""
    tools: dict[str, list[str]] = Field(default_factory=dict)
    """Tools each MCP server that passed listed, by artifact id."""
    failed: dict[str, str] = Field(default_factory=dict)
    """Artifacts that failed qualification, with the reason."""

    @classmethod
    def of(cls, check: BundleCheck) -> BundleVerdicts:
        return cls(report=check.report, report_path=check.report_path, tools=check.tools, failed=check.failed)

    def check(self) -> BundleCheck:
        from harnessgym.compare.bundle import BundleCheck

        return BundleCheck(report=self.report, report_path=self.report_path, tools=dict(self.tools),
                           failed=dict(self.failed))  # fmt: skip


class TrialJob(BaseModel):
    """Everything one trial needs, and nothing of the machine that planned it except the paths it names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trial_id: str
    """``<task>/<runner>/<arm>/<index>`` (empty parts left out); unique within a comparison."""
    spec: TaskSpec
    """The task, resolved."""
    group: Group
    """``plain`` gets no artifacts; ``harnessed`` (also every leave-one-out arm) gets the bundle's."""
    arm: str = ""
    """``plain``, ``harnessed`` or ``minus:<artifact id>``; empty means ``group``."""
    task: str = ""
    """The suite task's name as the records show it (empty for a one-task comparison)."""
    runner: str = "fake"
    """Which agent CLI runs the attempts."""
    runner_label: str = ""
    """The runner as the records show it (empty when the comparison has one runner)."""
    runner_options: RunnerOptions = Field(default_factory=RunnerOptions)
    """How to drive it; ``agent_env`` and ``fake_home`` get the trial's own agent home on top."""
    index: int = Field(gt=0)
    """1-based within its arm."""
    position: int = 0
    """1-based place in the planned order."""
    seed: int = 0
    """The comparison's seed (recorded; the trial itself draws nothing at random)."""
    bundle_dir: Path | None = None
    """The workspace whose registry and artifacts harnessed arms get; None for plain trials."""
    exclude_artifacts: tuple[str, ...] = ()
    """Artifact ids held back from the bundle (a leave-one-out arm)."""
    bundle_verdicts: BundleVerdicts | None = None
    """The bundle's qualification, applied to the trial's copy (harnessed arms)."""
    verify_pass_env: tuple[str, ...] = ()
    """Secret-named variables the verify and post commands still get."""
    require_active_harness: bool = True
    """A harnessed trial with no active artifact is invalid."""
    require_harness_tool_use: bool = False
    """A harnessed trial without an MCP tool call is invalid."""
    goal: str | None = None
    """Goal mode for the attempts (see :class:`~harnessgym.config.RunConfig`)."""
    goal_token_budget: int = 1_000_000
    """Tokens one goal-mode attempt may use."""
    watch: bool = False
    """Experimental, Codex only: attempts in the interactive UI."""

    @property
    def key(self) -> TrialKey:
        return TrialKey(group=self.group, index=self.index, task=self.task, arm=self.arm, runner=self.runner_label)


class Executor(Protocol):
    """Runs one trial somewhere and returns its record; see the module docstring for the contract."""

    name: str

    async def open(self) -> None:
        """Check the executor can run trials at all; raise ConfigError (nothing has been written yet)."""

    async def run(self, job: TrialJob, trial_dir: Path, on_event: EventHandler | None = None) -> TrialRecord:
        """Run ``job`` with ``trial_dir`` (absent or empty) as its folder; return its record (also written to
        ``trial_dir/trial.json``). ``on_event`` gets the run's events when the executor can stream them."""

    async def aclose(self) -> None:
        """Release what :meth:`open` acquired."""


def infra_record(job: TrialJob, trial_dir: Path, reason: str) -> TrialRecord:
    """The record of a trial the infrastructure could not run (its worker died, its process did not start)."""
    return TrialRecord(
        group=job.group, index=job.index, trial_id=job.trial_id, task=job.task, arm=job.arm, runner=job.runner_label,
        excluded_artifacts=list(job.exclude_artifacts), position=job.position, workspace=trial_dir / "workspace",
        run_id=run_id_of(job), valid=False, invalid_kind="infra_error", invalid_reason=reason, finished_at=utcnow(),
    )  # fmt: skip


def run_id_of(job: TrialJob) -> str:
    return f"compare-{job.group}-{job.index}"


def relocate_record(record: TrialRecord, worker_dir: Path, trial_dir: Path) -> TrialRecord:
    """``record`` with its paths under ``worker_dir`` (where a remote worker ran it) moved to ``trial_dir``."""

    def move(path: Path | None) -> Path | None:
        if path is None or not path.is_relative_to(worker_dir):
            return path
        return trial_dir / path.relative_to(worker_dir)

    update = {
        "workspace": move(record.workspace),
        "run_dir": move(record.run_dir),
        "agent_home": move(record.agent_home),
    }
    return record.model_copy(update=update)


class LocalExecutor:
    """Runs trials in this process, each in its own folder, workspace and agent home."""

    name = "local"

    async def open(self) -> None:
        return None

    async def run(self, job: TrialJob, trial_dir: Path, on_event: EventHandler | None = None) -> TrialRecord:
        from harnessgym.compare.trial_worker import run_trial_job

        return await run_trial_job(job, trial_dir, on_event)

    async def aclose(self) -> None:
        return None


class ProcessExecutor:
    """Runs each trial in a fresh ``python -I -m harnessgym.compare.trial_worker`` process, given only the job
    file and the trial folder (what a remote worker does). A process that dies without writing its record is
    an infrastructure error."""

    name = "process"

    async def open(self) -> None:
        return None

    async def run(self, job: TrialJob, trial_dir: Path, on_event: EventHandler | None = None) -> TrialRecord:
        from harnessgym import store
        from harnessgym.compare.trial_events import EVENTS_NAME, deliver, following
        from harnessgym.jobs.orphans import marker_env
        from mcp_host import run_process

        trial_dir.mkdir(parents=True, exist_ok=True)
        job_path = trial_dir / JOB_NAME
        job_path.write_text(job.model_dump_json(indent=2) + "\n", encoding="utf-8")
        argv = [sys.executable, "-I", "-m", "harnessgym.compare.trial_worker", str(job_path), str(trial_dir)]
        # Marked like a run's children, so that if this process dies (kill -9) the resumed comparison kills the
        # orphaned worker before it runs the trial again in the same folder.
        env = {**os.environ, **marker_env(trial_dir / "workspace", run_id_of(job))}
        events = trial_dir / EVENTS_NAME
        events.unlink(missing_ok=True)  # a try before this one in the same folder: its events are not this run's
        shown = functools.partial(deliver, on_event) if on_event is not None else None  # the worker's, as they come
        result = await following(events, shown, functools.partial(
            run_process, argv, cwd=trial_dir, env=env, stdout_path=trial_dir / "worker.stdout.txt",
            stderr_path=trial_dir / "worker.stderr.txt"))  # fmt: skip
        record = store.read_model(trial_dir / RECORD_NAME, TrialRecord)
        if record is not None and record.trial_id == job.trial_id:
            return record
        # The worker died: its agent (its own process group) may live on; kill what is marked with the trial.
        from harnessgym.jobs.orphans import reap_orphans

        await reap_orphans(trial_dir / "workspace")
        why = result.error or f"exit code {result.returncode}"
        tail = result.stderr_tail.strip()[-400:]
        reason = f"the trial worker died without a record ({why})" + (f": {tail}" if tail else "")
        return infra_record(job, trial_dir, reason)

    async def aclose(self) -> None:
        return None


def make_executor(name: str, *, ray_address: str | None = None, ray_cpus_per_trial: float = 1.0) -> Executor:
    """The executor called ``name`` (``--executor``); ``ray_address`` is the cluster of ``ray`` and
    ``ray_cpus_per_trial`` what each of its tasks reserves."""
    if name == "ray":
        from harnessgym.compare.ray_executor import RayExecutor

        return RayExecutor(ray_address, cpus_per_trial=ray_cpus_per_trial)
    executors: dict[str, type[LocalExecutor] | type[ProcessExecutor]] = {
        "local": LocalExecutor, "process": ProcessExecutor}  # fmt: skip
    if name not in executors:
        from harnessgym.errors import ConfigError

        raise ConfigError(f"unknown executor {name!r}; choose one of: {', '.join(EXECUTOR_NAMES)}", "executor")
    return executors[name]()
