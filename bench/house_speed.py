"""Speed figures the test suite used to assert as wall-clock limits, printed side by side instead.

Run: ``python bench/house_speed.py [--repeat 5] [--megabytes 10] [--servers 4] [--json]``

* ``harnessgym --help``: the best of ``--repeat`` runs next to a bare ``python -c pass`` (the interpreter's
  own start), so the ratio says what the CLI adds whatever the machine's load;
* the framing decoder: a ``--megabytes`` message fed in 64 KiB chunks, per framing, in MB/s;
* qualification: ``--servers`` toy servers qualified together, next to the sum of their separate times (a
  ratio well under 1 means they really ran side by side).

The tests keep the behaviour (``--help`` imports nothing heavy, the decoder scans each byte a bounded number
of times, qualification overlaps the self-tests); this script keeps the numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcp_host import load_manifest, qualify_servers, run_process  # noqa: E402
from mcp_host._wire.framing import Decoder, WireFraming, encode  # noqa: E402

TOY = ROOT / "tests" / "hostile" / "toy_server.py"


async def _best_of(argv: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        result = await run_process(argv, cwd=ROOT, timeout=60)
        if not result.ok:
            raise RuntimeError(f"{argv} failed: {result.error or result.stderr_tail}")
        best = min(best, result.duration_seconds)
    return best


async def cli_help(repeat: int) -> dict[str, float]:
    bare = await _best_of([sys.executable, "-c", "pass"], repeat)
    help_s = await _best_of([sys.executable, "-m", "harnessgym", "--help"], repeat)
    return {"python_s": bare, "help_s": help_s, "ratio": help_s / bare}


def decode(megabytes: int) -> dict[str, float]:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"text": "x" * (megabytes * 1_000_000)}}).encode()
    figures: dict[str, float] = {}
    framings: tuple[WireFraming, ...] = ("newline", "content-length")
    for framing in framings:
        data = encode(body, framing)
        decoder = Decoder()
        started = time.perf_counter()
        for i in range(0, len(data), 65536):
            decoder.feed(data[i : i + 65536])
        figures[f"{framing}_mb_per_s"] = len(data) / 1e6 / (time.perf_counter() - started)
    return figures


async def qualification(servers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        specs = []
        for i in range(servers):
            directory = ws / ".harnessgym" / "mcp" / f"toy{i}"
            directory.mkdir(parents=True)
            manifest = {
                "name": f"toy{i}",
                "command": sys.executable,
                "args": [str(TOY)],
                "framing": "newline",
                "self_test": True,
                "timeouts": {"startup_seconds": 60, "self_test_seconds": 60},
            }
            (directory / "mcp.json").write_text(json.dumps(manifest))
            specs.append(load_manifest(directory, ws))
        started = time.perf_counter()
        # A fresh verdict cache each time: a cached pass would cost nothing and measure nothing.
        verdicts = await qualify_servers(specs, workspace=ws, verdicts_of=ws / "together")
        together = time.perf_counter() - started
        parts = sum(v.duration_seconds for v in verdicts)
    if any(v.status != "passed" for v in verdicts):
        raise RuntimeError("; ".join(v.message for v in verdicts if v.status != "passed"))
    return {"together_s": together, "sum_of_parts_s": parts, "ratio": together / parts}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "cli_help": await cli_help(args.repeat),
        "decode": decode(args.megabytes),
        "qualification": await qualification(args.servers),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=10)
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="print JSON instead of lines")
    args = parser.parse_args(argv)
    result: dict[str, Any] = anyio.run(main_async, args)
    if args.json:
        print(json.dumps(result, indent=2))
        return result
    h, d, q = result["cli_help"], result["decode"], result["qualification"]
    print(f"harnessgym --help: {h['help_s']:.3f} s, python -c pass: {h['python_s']:.3f} s, ratio {h['ratio']:.2f}")
    print(
        f"decode {args.megabytes} MB: newline {d['newline_mb_per_s']:.0f} MB/s, "
        f"content-length {d['content-length_mb_per_s']:.0f} MB/s"
    )
    print(
        f"qualify {args.servers} servers: together {q['together_s']:.2f} s, sum of parts "
        f"{q['sum_of_parts_s']:.2f} s, ratio {q['ratio']:.2f}"
    )
    return result


if __name__ == "__main__":
    main()
