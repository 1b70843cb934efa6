"""The overhead benchmark still runs (tiny counts), so it never rots."""

from __future__ import annotations

import json
import sys

import anyio
import pytest
from hostile.helpers import ROOT

from mcp_host._supervise.procs import run_process

pytestmark = pytest.mark.anyio


async def test_the_host_overhead_benchmark_runs_with_tiny_counts() -> None:
    argv = [
        sys.executable,
        str(ROOT / "bench" / "host_overhead.py"),
        "--small",
        "20",
        "--medium",
        "8",
        "--large",
        "1",
        "--servers",
        "2",
        "--skip-sdk",
        "--no-upstream",
        "--json",
    ]
    with anyio.fail_after(60):
        result = await run_process(argv, cwd=ROOT, timeout=50)
    assert result.returncode == 0, result.stderr_tail
    data = json.loads(result.stdout_tail)
    assert {(r["case"], r["path"]) for r in data["latency"]} == {
        (c, p) for c in ("small", "64KiB", "10MB") for p in ("direct", "host")
    }
    assert data["startup"]["sdk-free"]["together_s"] > 0


async def test_the_house_speed_benchmark_runs_with_tiny_counts() -> None:
    # The figures the suite no longer asserts (--help, decoding, qualification side by side) still get measured.
    argv = [sys.executable, str(ROOT / "bench" / "house_speed.py"), "--repeat", "1", "--megabytes", "1",
            "--servers", "2", "--json"]  # fmt: skip
    with anyio.fail_after(60):
        result = await run_process(argv, cwd=ROOT, timeout=50)
    assert result.returncode == 0, result.stderr_tail
    data = json.loads(result.stdout_tail)
    assert set(data) == {"cli_help", "decode", "qualification"}
    assert data["cli_help"]["help_s"] > 0 and data["decode"]["newline_mb_per_s"] > 0
    assert data["qualification"]["sum_of_parts_s"] > 0
