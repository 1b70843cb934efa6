"""A job's worker process: ``python -I -m harnessgym.jobs.worker <job folder>`` (started by the manager).

It reads the job's ``spec.json``, makes the one library call it names (run, resume, continue or compare),
appends every progress event to ``events.jsonl`` and writes ``outcome.json`` on its way out. SIGTERM, SIGINT
and SIGHUP cancel the call the way Ctrl-C cancels ``harnessgym run``: the agent's tree is killed, the run is
recorded as interrupted (resumable) or the comparison's report says ``interrupted``. The library takes the
workspace lock (or the output folder's) as it would for any caller; this module adds nothing but the edges.

Exit codes: 0 finished, 1 error, 130 interrupted, 2 the job folder is unusable.
"""

from __future__ import annotations

import signal
import sys
import traceback
from pathlib import Path

import anyio
from pydantic import TypeAdapter, ValidationError

from harnessgym import store
from harnessgym.compare.models import TrialKey, TrialRecord
from harnessgym.compare.render import trial_line
from harnessgym.errors import HarnessgymError
from harnessgym.events import RunEvent
from harnessgym.jobs.models import JobEvent, JobOutcome, JobSpec, TrialProgress
from harnessgym.store.layout import JobLayout

__all__ = ["main", "run_job"]

_EXIT = {"finished": 0, "error": 1, "interrupted": 130}
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class _EventLog:
    """Appends a job's events; remembers the comparison's trial in progress for the messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.running: tuple[TrialKey, int, int] | None = None

    def add(self, message: str, run_event: RunEvent | None = None, trial: TrialProgress | None = None) -> None:
        self.count += 1
        store.append_line(self.path, JobEvent(seq=self.count, message=message, run_event=run_event, trial=trial))

    async def on_run_event(self, event: RunEvent) -> None:
        if self.running is None:
            self.add(event.message, run_event=event)
            return
        head = trial_line(*self.running, None).removesuffix(": running")
        self.add(f"{head}: {event.message}", run_event=event)

    def on_trial(self, key: TrialKey, position: int, total: int, record: TrialRecord | None) -> None:
        progress = TrialProgress(group=key.group, index=key.index, position=position, total=total,
                                 finished=record is not None)  # fmt: skip
        self.running = (key, position, total) if record is None else None
        self.add(trial_line(key, position, total, record), trial=progress)


async def _call(spec: JobSpec, log: _EventLog) -> None:
    from harnessgym.compare import compare_async
    from harnessgym.jobs.api import continue_async, resume_async, run_async

    if spec.action == "run":
        await run_async(spec.config, log.on_run_event)
    elif spec.action == "resume":
        await resume_async(spec.workspace, spec.run_id, log.on_run_event)
    elif spec.action == "continue":
        await continue_async(spec.workspace, spec.run_id, spec.iterations, log.on_run_event,
                             allow_solved=spec.allow_solved)  # fmt: skip
    else:
        await compare_async(spec.config, log.on_trial, log.on_run_event)


async def run_job(job_dir: Path, spec: JobSpec) -> JobOutcome:
    """Make the call ``spec`` names, stopping it on SIGTERM, SIGINT or SIGHUP; write and return the outcome."""
    layout = JobLayout(job_dir)
    log = _EventLog(layout.events)
    outcome: JobOutcome | None = None
    with anyio.open_signal_receiver(*_STOP_SIGNALS) as signals:
        # Held back since the worker started (the manager spawns it so): from here on they cancel the call.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        async with anyio.create_task_group() as tg:

            async def stop_on_signal() -> None:
                async for signum in signals:
                    print(f"{signal.Signals(signum).name}: stopping the job", file=sys.stderr, flush=True)
                    tg.cancel_scope.cancel()
                    return

            tg.start_soon(stop_on_signal)
            try:
                await _call(spec, log)
                outcome = JobOutcome(status="finished", began=log.count > 0)
            except HarnessgymError as exc:  # deliberate and actionable: its message says what to do
                outcome = JobOutcome(status="error", began=log.count > 0, error=str(exc))
            except Exception as exc:  # the worker's edge: record why, keep the traceback in the stderr log
                traceback.print_exc()
                outcome = JobOutcome(status="error", began=log.count > 0, error=f"{type(exc).__name__}: {exc}")
            tg.cancel_scope.cancel()
    if outcome is None:  # cancelled by a signal: the library has recorded the interruption
        outcome = JobOutcome(status="interrupted", began=log.count > 0)
    store.write_model(layout.outcome, outcome)
    return outcome


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m harnessgym.jobs.worker JOB_FOLDER", file=sys.stderr)
        return 2
    job_dir = Path(args[0])
    try:
        spec: JobSpec = TypeAdapter(JobSpec).validate_json(store.read_regular(JobLayout(job_dir).spec))
    except (OSError, ValidationError) as exc:
        print(f"job folder {job_dir} holds no readable spec.json ({exc}); start the job again", file=sys.stderr)
        store.write_model(JobLayout(job_dir).outcome, JobOutcome(status="error", began=False,
                                                                 error=f"unreadable spec.json: {exc}"))  # fmt: skip
        return 2
    outcome = anyio.run(run_job, job_dir, spec)
    return _EXIT[outcome.status]


if __name__ == "__main__":
    raise SystemExit(main())
