"""What a trial costs on a Ray cluster: the same suite comparison with ``--executor local``, ``process`` and ``ray``
(a head started here, on 127.0.0.1), side by side in one run.

Run (root: the Ray head gets a network namespace of its own): ``python bench/ray_overhead.py [--seconds 0]``

The suite is ``examples/suite`` (three tasks, two trials per arm, plain and harnessed: 12 trials, one at a time);
the fake agent sleeps ``--seconds`` per attempt (0: nothing but overhead). ``process`` runs each trial in a fresh
interpreter, as a Ray worker does; ``ray`` adds packing the template and bundle, the task, and the trial folder
shipped back and unpacked. Connecting to the cluster (once per comparison) is timed apart and left out of the
per-trial figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import in_namespaces, ray_head  # noqa: E402
from bench.compare_jobs import SUITE, agent  # noqa: E402
from harnessgym.compare import CompareConfig, compare_async  # noqa: E402
from runners import RunnerOptions  # noqa: E402

INSIDE = "HARNESSGYM_BENCH_RAY_INSIDE"


async def timed(folder: Path, fake: Path, executor: str, address: str | None) -> tuple[float, int, int]:
    config = CompareConfig(suite=SUITE / "suite.toml", output_dir=folder / f"out-{executor}", executor=executor,
                           ray_address=address, runner="fake",
                           runner_options=RunnerOptions(fake_script=fake))  # fmt: skip
    start = time.perf_counter()
    report = await compare_async(config)
    return time.perf_counter() - start, len(report.trials), sum(t.solved for t in report.trials)


async def connect_seconds(address: str) -> float:
    from harnessgym.compare.ray_executor import RayExecutor

    executor = RayExecutor(address)
    start = time.perf_counter()
    await executor.open()
    took = time.perf_counter() - start
    await executor.aclose()
    return took


async def measure(args: argparse.Namespace, address: str) -> None:
    with tempfile.TemporaryDirectory(prefix="hg-bench-ray-") as tmp:
        folder = Path(tmp)
        fake = agent(folder, args.seconds)
        connect = await connect_seconds(address)
        rows = {name: await timed(folder, fake, name, address if name == "ray" else None)
                for name in ("local", "process", "ray")}  # fmt: skip
    counts = {(n, solved) for _, n, solved in rows.values()}
    assert len(counts) == 1, f"the executors measured different things: {rows}"
    ((n, solved),) = counts
    per = {name: (took - (connect if name == "ray" else 0.0)) / n for name, (took, _, _) in rows.items()}
    print(f"suite: 3 tasks x 2 arms x 2 trials = {n} trials, one at a time, {args.seconds:g} s of agent time per "
          f"attempt; {solved} solved under every executor; Ray head on 127.0.0.1, {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'executor':>10} {'wall s':>8} {'s/trial':>8} {'vs local':>9}")
    for name, (took, _, _) in rows.items():
        print(f"{name:>10} {took:8.2f} {per[name]:8.3f} {per[name] - per['local']:+8.3f}s")
    print(f"connecting to the cluster (once per comparison, in the ray row's wall time): {connect:.2f} s")
    print(f"per-trial overhead of --executor ray: {per['ray'] - per['local']:+.3f} s against local, "
          f"{per['ray'] - per['process']:+.3f} s against process (a fresh interpreter per trial)")  # fmt: skip


def inside(args: argparse.Namespace) -> None:
    with ray_head() as address:
        anyio.run(measure, args, address)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.0)
    parsed = parser.parse_args()
    if os.environ.get(INSIDE) == "1":
        inside(parsed)
    else:
        os.environ[INSIDE] = "1"
        sys.exit(in_namespaces([sys.executable, *sys.argv]))
