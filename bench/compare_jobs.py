"""What ``--jobs`` buys: the wall time of one suite comparison at ``--jobs 1`` and at ``--jobs N``, side by side.

Run: ``python bench/compare_jobs.py [--jobs 4] [--seconds 2] [--executor local]``

The suite is ``examples/suite`` (three tasks, two trials per arm, plain and harnessed: 12 trials); the fake
agent sleeps ``--seconds`` per attempt (standing in for the model's thinking time, which is where a real
agent's attempt spends its time) and solves alpha and beta only when the bundle's fixer tool was copied in.
Both runs use the same library call and the same seed in fresh output folders; the ratio is the throughput
gain. It also prints the floor: the attempts' summed sleep divided by the jobs, i.e. what perfect overlap with
zero per-trial overhead would take.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harnessgym.compare import CompareConfig, compare_async  # noqa: E402
from runners import RunnerOptions  # noqa: E402

SUITE = ROOT / "examples" / "suite"


def agent(folder: Path, seconds: float) -> Path:
    script = json.loads((SUITE / "fake_agent.json").read_text())
    for action in script["steps"][0]["actions"]:
        if action["do"] == "sleep":
            action["seconds"] = seconds
    path = folder / "fake_agent.json"
    path.write_text(json.dumps(script))
    return path


async def timed(folder: Path, fake: Path, jobs: int, executor: str) -> tuple[float, int, int]:
    config = CompareConfig(suite=SUITE / "suite.toml", output_dir=folder / f"out-jobs-{jobs}", jobs=jobs,
                           executor=executor, runner="fake",
                           runner_options=RunnerOptions(fake_script=fake))  # fmt: skip
    start = time.perf_counter()
    report = await compare_async(config)
    took = time.perf_counter() - start
    return took, len(report.trials), sum(t.solved for t in report.trials)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="hg-bench-jobs-") as tmp:
        folder = Path(tmp)
        fake = agent(folder, args.seconds)
        one, n, solved_one = await timed(folder, fake, 1, args.executor)
        many, n_many, solved_many = await timed(folder, fake, args.jobs, args.executor)
    assert n == n_many and solved_one == solved_many, "the two runs measured different things"
    floor = n * args.seconds / args.jobs
    print(f"suite: 3 tasks x 2 arms x 2 trials = {n} trials, {args.seconds:g} s of agent time per attempt, "
          f"executor {args.executor}; {solved_one} solved in both runs")  # fmt: skip
    print(f"{'':>12} {'wall s':>8} {'s/trial':>8} {'trials/min':>11}")
    for label, took in ((" --jobs 1", one), (f" --jobs {args.jobs}", many)):
        print(f"{label:>12} {took:8.2f} {took / n:8.2f} {60 * n / took:11.1f}")
    print(f"throughput at --jobs {args.jobs} vs --jobs 1: {one / many:.2f}x "
          f"(ideal {args.jobs}x; perfect overlap with zero overhead would take {floor:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--executor", default="local", choices=["local", "process"])
    anyio.run(main, parser.parse_args())
