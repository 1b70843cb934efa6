"""The library owns every job: runs and comparisons in detached workers (``JOBS``), read back from disk
(``get_run``, ``get_compare``, ``list_compares``) and stopped by their verified pid (``cancel_run``,
``cancel_compare``), each with its blocking twin; a job folder an agent tampered with is never acted on.

The fake agent really runs, in a worker that really is another process (a child of this one, waited for).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from support.compare import USE_FIXER_IF_PRESENT, fixer_entry
from support.compare import artifact_source as make_source
from support.loop import config, example_workspace, hang_once, result, script, step

import harnessgym as hg
from harnessgym.compare import CompareConfig
from harnessgym.jobs import JOBS, CompareJob, JobRecord, RunJob
from harnessgym.jobs.orphans import find_orphans
from runners._options import RunnerOptions

pytestmark = pytest.mark.anyio

HANG_THEN_SOLVE = step("attempt", hang_once(marker=".hang"), {"do": "write", "path": "done.txt", "text": "ok"},
                       result(status="solved"))  # fmt: skip


@pytest.fixture(autouse=True)
def _workers_end() -> Iterator[None]:
    yield
    assert anyio.run(JOBS.wait_children, 30) == []


async def wait_for_file(path: Path) -> None:
    # The fake agent is another process; its marker file is the only sign that it reached the hang.
    with anyio.fail_after(30):
        while not path.exists():  # noqa: ASYNC110
            await anyio.sleep(0.05)


def compare_config(tmp_path: Path, fake: Path) -> CompareConfig:
    ws = example_workspace(tmp_path, "template")
    return CompareConfig(
        task_text="Fix numerics.py.", workspace_template=ws, artifact_source=make_source(tmp_path, fixer_entry()),
        output_dir=tmp_path / "out", trials=1, verify_command="python verifier.py", attempt_timeout=30,
        runner_options=RunnerOptions(fake_script=fake, fake_home=tmp_path / "fake-home"),
    )  # fmt: skip


async def test_a_run_job_runs_in_its_own_worker_with_its_record_and_events_on_disk(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    cfg = config(ws, tmp_path, verify_command="python verifier.py")
    job = JOBS.start(RunJob(config=cfg))
    assert job.pid != os.getpid() and job.proc_start is not None and job.tag == f"job-{job.job_id}"
    done = await JOBS.wait(job, 60)
    jl = ws / ".harnessgym" / "jobs" / job.job_id
    assert done == job.model_copy(update={"status": "finished", "outcome": done.outcome})
    assert done.outcome is not None and (done.outcome.status, done.outcome.began, done.outcome.error) == (
        "finished", True, None)  # fmt: skip
    assert sorted(p.name for p in jl.iterdir()) == [
        "events.jsonl", "job.json", "outcome.json", "spec.json", "worker.stderr.txt", "worker.stdout.txt"]  # fmt: skip
    kinds = [e.run_event.kind for e in JOBS.events(done) if e.run_event is not None]
    assert (kinds[0], kinds[-1], kinds.count("iteration_started")) == ("run_started", "run_finished", 2)
    assert [e.seq for e in JOBS.events(done)] == list(range(1, len(kinds) + 1))
    info = hg.get_run(ws, cfg.run_id)
    assert (info.status, info.evidence) == ("solved", "verified")
    assert JOBS.latest(ws, "run", cfg.run_id) == done and JOBS.latest(ws, "compare") is None


async def test_cancel_run_stops_the_worker_by_its_pid_and_the_run_resumes_to_solved(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    cfg = config(ws, tmp_path, script(tmp_path, HANG_THEN_SOLVE), iterations=1, verify_command="test -f done.txt")
    job = JOBS.start(RunJob(config=cfg))
    await wait_for_file(ws / ".hang")
    assert hg.get_run(ws, cfg.run_id).status == "running" and JOBS.is_alive(job)
    with anyio.fail_after(40):
        info = await hg.cancel_run_async(ws, cfg.run_id)
    assert info.status == "interrupted" and not JOBS.is_alive(job)
    assert (await JOBS.wait(job, 10)).status == "interrupted"
    with pytest.raises(hg.NotRunningError, match=rf"run {cfg.run_id} is not running \(status interrupted\)"):
        await hg.cancel_run_async(ws, cfg.run_id)
    with anyio.fail_after(60):
        summary = await hg.resume_async(ws, cfg.run_id)
    assert (summary.status, summary.evidence) == ("solved", "verified")


async def test_get_list_and_cancel_compare_read_and_stop_a_comparison_job(tmp_path: Path) -> None:
    hang = step("attempt", hang_once(marker=str(tmp_path / "hanging")), *USE_FIXER_IF_PRESENT["actions"])
    cfg = compare_config(tmp_path, script(tmp_path, hang))
    with pytest.raises(hg.CompareNotFoundError, match=r"holds neither compare_report\.json nor trials"):
        hg.get_compare(cfg.output_dir)
    job = JOBS.start(CompareJob(config=cfg))
    await wait_for_file(tmp_path / "hanging")
    info = hg.get_compare(cfg.output_dir)
    assert (info.status, info.live, info.trials, info.trials_planned, info.job) == ("running", True, [], 2, job)
    assert info.running_trial is not None and (info.running_trial.position, info.running_trial.finished) == (1, False)
    assert [c.output_dir for c in hg.list_compares(tmp_path)] == [cfg.output_dir]
    with anyio.fail_after(40):
        stopped = await hg.cancel_compare_async(cfg.output_dir)
    assert (stopped.status, stopped.live, stopped.report is not None) == ("interrupted", False, True)
    assert stopped.report is not None and stopped.report.verdict.outcome == "insufficient_data"
    with pytest.raises(hg.NotRunningError, match=r"is not running \(status interrupted\)"):
        await hg.cancel_compare_async(cfg.output_dir)
    assert (await JOBS.wait(job, 10)).status == "interrupted"


def test_the_blocking_twins_compare_and_cancel_and_compare_is_callable_whatever_the_name_holds(
    tmp_path: Path,
) -> None:
    import harnessgym.compare  # binds the package to the name; calling it still runs a comparison

    cfg = compare_config(tmp_path, script(tmp_path, USE_FIXER_IF_PRESENT))
    report = hg.compare(cfg)
    assert callable(harnessgym.compare) and report.status == "completed"
    info = hg.get_compare(cfg.output_dir)
    assert (info.status, info.report, info.job, info.live) == ("completed", report, None, False)
    with pytest.raises(hg.NotRunningError, match=r"is not running \(status completed\)"):
        hg.cancel_compare(cfg.output_dir)
    ws = example_workspace(tmp_path, "run-ws")
    with pytest.raises(hg.RunNotFoundError):
        hg.cancel_run(ws, "nope")


async def test_job_folders_an_agent_tampered_with_are_never_read_as_jobs_nor_written_through(
    tmp_path: Path,
) -> None:
    ws = example_workspace(tmp_path)
    jobs = ws / ".harnessgym" / "jobs"
    for name, content in [("garbage", "{"), ("huge", "x" * 64), ("fifo", None)]:
        (jobs / name).mkdir(parents=True)
        if content is None:
            os.mkfifo(jobs / name / "job.json")
        else:
            (jobs / name / "job.json").write_text(content)
    assert JOBS.jobs(ws) == []  # (the FIFO is refused, not waited on)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.rename(jobs, tmp_path / "old-jobs")
    jobs.symlink_to(elsewhere)  # a link out: never listed, never written through
    assert JOBS.jobs(ws) == []
    cfg = config(ws, tmp_path, script(tmp_path, step("attempt", result(status="blocked"))), iterations=1)
    job: JobRecord = await JOBS.wait(JOBS.start(RunJob(config=cfg)), 60)
    assert list(elsewhere.iterdir()) == [] and not jobs.is_symlink()
    assert [j.job_id for j in JOBS.jobs(ws)] == [job.job_id] and job.status == "finished"


async def test_a_job_cancelled_while_its_worker_still_starts_is_stopped_cleanly_not_killed(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    job = JOBS.start(RunJob(config=config(ws, tmp_path, script(tmp_path, HANG_THEN_SOLVE), iterations=1)))
    with anyio.fail_after(40):
        assert await JOBS.cancel(job)  # at once: the worker is still importing the library
        job = await JOBS.wait(job)
    assert job.outcome is not None and (job.status, job.outcome.status) == ("interrupted", "interrupted")
    assert "SIGTERM: stopping the job" in job.stderr_log.read_text()


async def test_a_worker_killed_with_sigkill_is_reported_lost_and_its_run_resumes_to_solved(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    cfg = config(ws, tmp_path, script(tmp_path, HANG_THEN_SOLVE), iterations=1, verify_command="test -f done.txt")
    job = JOBS.start(RunJob(config=cfg))
    await wait_for_file(ws / ".hang")
    assert JOBS.is_alive(job)
    os.kill(job.pid, signal.SIGKILL)  # no chance to record anything: the machine's OOM killer, a kill -9
    job = await JOBS.wait(job, 30)
    assert (job.status, job.outcome) == ("lost", None)
    assert job.failure is not None and f"pid {job.pid}) ended without recording how" in job.failure
    assert hg.get_run(ws, cfg.run_id).status == "interrupted"
    with anyio.fail_after(60):
        summary = await hg.resume_async(ws, cfg.run_id)  # it also reaps the agent the dead worker left behind
    assert (summary.status, summary.evidence, find_orphans(ws)) == ("solved", "verified", [])
