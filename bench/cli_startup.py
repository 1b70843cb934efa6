"""What the command line costs to start: ``harnessgym --help`` against ``run --help`` and ``compare --help``.

Run: ``python bench/cli_startup.py [--rounds 7]``

``harnessgym --help`` imports click and the standard library only. ``run --help`` and ``compare --help``
also build their options from the config models, which imports pydantic and the models (the options are
generated from the fields, so listing them needs the fields). Each round runs every command once, interleaved,
so a busy machine slows them alike; the best and the median of the rounds are printed side by side with a bare
``python -c pass`` as the floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcp_host import run_process  # noqa: E402

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "harnessgym --help": [sys.executable, "-m", "harnessgym", "--help"],
    "harnessgym run --help": [sys.executable, "-m", "harnessgym", "run", "--help"],
    "harnessgym compare --help": [sys.executable, "-m", "harnessgym", "compare", "--help"],
}


async def main(rounds: int) -> None:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        for _ in range(rounds):
            for name, argv in COMMANDS.items():
                result = await run_process(argv, timeout=60, stdout_path=out, cwd=ROOT)
                if result.returncode != 0:
                    raise SystemExit(f"{name} failed with exit {result.returncode}")
                times[name].append(result.duration_seconds)
    base = min(times["harnessgym --help"])
    print(f"{'command':<28} {'best s':>8} {'median s':>9} {'best / harnessgym --help':>26}")
    for name, values in times.items():
        print(f"{name:<28} {min(values):>8.3f} {statistics.median(values):>9.3f} {min(values) / base:>25.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    anyio.run(main, parser.parse_args().rounds)
