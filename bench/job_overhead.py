"""What a detached job worker costs: a run in this process against the same run in a job worker.

Run: ``python bench/job_overhead.py [--repeat 3]``

Both paths run the same one-iteration fake-agent run on a fresh copy of the example task, side by side in one
run: in-process (``harnessgym.run_async``, as ``serve`` did before jobs) and as a job (``JOBS.start``, a
``python -I -m harnessgym.jobs.worker`` process, as ``serve`` does now). It prints the time to the run's first
progress event (what ``start_run`` waits for) and to its end, and the ratios.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import harnessgym as hg  # noqa: E402
from harnessgym.jobs import JOBS, RunJob  # noqa: E402
from harnessgym.jobs.models import JobEvent  # noqa: E402
from harnessgym.store import read_lines  # noqa: E402

EXAMPLE = ROOT / "examples" / "numerical_debug_task"


def _config(base: Path, name: str) -> hg.RunConfig:
    ws = base / name
    shutil.copytree(EXAMPLE, ws)
    return hg.RunConfig(workspace=ws, task_text=(ws / "task.md").read_text(), iterations=1,
                        verify_command="python verifier.py", qualify_artifacts=False)  # fmt: skip


async def in_process(config: hg.RunConfig) -> tuple[float, float]:
    started = time.perf_counter()
    first: list[float] = []

    def on_event(_: hg.RunEvent) -> None:
        if not first:
            first.append(time.perf_counter() - started)

    await hg.run_async(config, on_event)
    return first[0], time.perf_counter() - started


async def as_job(config: hg.RunConfig) -> tuple[float, float]:
    started = time.perf_counter()
    job = JOBS.start(RunJob(config=config))
    await JOBS.wait_started(job, 60)
    first = time.perf_counter() - started
    job = await JOBS.wait(job, 120)
    assert job.status == "finished" and read_lines(job.events_path, JobEvent)[0], job
    return first, time.perf_counter() - started


async def main(repeat: int) -> None:
    rows: dict[str, list[tuple[float, float]]] = {"in process": [], "job worker": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            rows["in process"].append(await in_process(_config(Path(tmp), f"in-{i}")))
            rows["job worker"].append(await as_job(_config(Path(tmp), f"job-{i}")))
    med = {k: (statistics.median(f for f, _ in v), statistics.median(t for _, t in v)) for k, v in rows.items()}
    print(f"{'':12} {'first event':>12} {'whole run':>10}   (median of {repeat})")
    for name, (first, total) in med.items():
        print(f"{name:12} {first:11.3f}s {total:9.3f}s")
    (f_in, t_in), (f_job, t_job) = med["in process"], med["job worker"]
    print(f"{'ratio':12} {f_job / f_in:11.1f}x {t_job / t_in:9.2f}x   (job / in process)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    anyio.run(main, parser.parse_args().repeat)
