"""Running the planned trials: ``--jobs`` at a time, in the planned order, resuming, retrying infrastructure
failures, and stopping at the budget.

* Concurrency: an anyio task group, and a :class:`anyio.CapacityLimiter` of ``jobs`` tokens taken in the
  planned order, so trials start in that order and at most ``jobs`` run at once.
* Resume: a trial whose folder holds its final ``trial.json`` (of the same trial id) is done and not run again.
  A folder without one was cut short (kill -9, Ctrl-C): processes still marked with its workspace are killed
  and the folder is replaced by a fresh run.
* Retries: a record with ``invalid_kind == "infra_error"`` is moved aside to ``trial_<i>.infra-<k>`` and the
  trial runs again, up to ``max_retries`` times; the final record says how many tries it took and why.
* Budget: before a trial starts, the reported cost of every finished trial (this run and earlier ones) is
  compared with ``budget_usd``; once reached, no further trial starts (the running ones finish) and the
  trials not started are returned.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio

from harnessgym import store
from harnessgym.compare.executors import RECORD_NAME, Executor, TrialJob
from harnessgym.compare.models import CompareConfig, TrialKey, TrialRecord
from harnessgym.compare.upstream import fill_upstream
from harnessgym.events import EventHandler

__all__ = ["finished_record", "run_trials"]


def finished_record(trial_dir: Path, trial_id: str) -> TrialRecord | None:
    """The trial's final record, when the trial ended (a record of another trial id does not count)."""
    record = store.read_model(trial_dir / RECORD_NAME, TrialRecord)
    return record if record is not None and record.trial_id == trial_id else None


def _aside(trial_dir: Path) -> Path:
    k = 1
    while trial_dir.with_name(f"{trial_dir.name}.infra-{k}").exists():
        k += 1
    return trial_dir.with_name(f"{trial_dir.name}.infra-{k}")


async def _fresh(trial_dir: Path) -> None:
    """Clear what a cut-short run of this trial left: its processes, then its folder."""
    from harnessgym.jobs.orphans import reap_orphans

    if trial_dir.exists():
        await reap_orphans(trial_dir / "workspace")
        await anyio.to_thread.run_sync(shutil.rmtree, trial_dir)


async def _run_one(
    config: CompareConfig, executor: Executor, job: TrialJob, trial_dir: Path, on_event: EventHandler | None
) -> TrialRecord:
    max_retries = config.max_retries
    errors: list[str] = []
    tries = 0
    while True:
        tries += 1
        await _fresh(trial_dir)
        record = await executor.run(job, trial_dir, on_event)
        if record.invalid_kind != "infra_error" or tries > max_retries:
            break
        errors.append(record.invalid_reason)
        if trial_dir.exists():
            trial_dir.rename(_aside(trial_dir))
    record.tries, record.infra_errors, record.position = tries, errors, job.position
    # HarnessGym 0.1.1's field names beside ours; the post command is the task's.
    fill_upstream(record, config.model_copy(update={"post_command": job.spec.post_command}))
    trial_dir.mkdir(parents=True, exist_ok=True)
    store.write_model(trial_dir / RECORD_NAME, record)
    return record


async def run_trials(
    config: CompareConfig,
    executor: Executor,
    jobs: list[tuple[TrialKey, Path, TrialJob]],
    records: dict[str, TrialRecord],
    on_trial: object | None,
    on_event: EventHandler | None,
) -> list[TrialKey]:
    """Run every job without a finished record into ``records`` (finished ones are put there as they are);
    returns the trials the budget stopped."""
    from harnessgym.compare.trials import TrialHandler

    handler: TrialHandler | None = on_trial  # type: ignore[assignment]
    total = len(jobs)
    for key, trial_dir, _ in jobs:
        done = finished_record(trial_dir, key.trial_id)
        if done is not None:
            records[key.trial_id] = done
    limiter = anyio.CapacityLimiter(config.jobs)
    not_run: list[TrialKey] = []

    def spent() -> float:
        return sum(r.cost_usd or 0.0 for r in records.values())

    async def trial(key: TrialKey, trial_dir: Path, job: TrialJob, token: object) -> None:
        try:
            if handler is not None:
                handler(key, job.position, total, None)
            record = await _run_one(config, executor, job, trial_dir, on_event)
            records[key.trial_id] = record
            if handler is not None:
                handler(key, job.position, total, record)
        finally:
            limiter.release_on_behalf_of(token)

    async with anyio.create_task_group() as tg:
        pending = [(k, d, j) for k, d, j in jobs if k.trial_id not in records]
        for n, (key, trial_dir, job) in enumerate(pending):
            token = object()
            await limiter.acquire_on_behalf_of(token)
            if config.budget_usd is not None and spent() >= config.budget_usd:
                limiter.release_on_behalf_of(token)
                not_run = [k for k, _, _ in pending[n:]]
                break
            tg.start_soon(trial, key, trial_dir, job, token)
    return not_run
