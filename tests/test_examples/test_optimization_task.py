"""examples/optimization_task: its benchmark cannot be gamed (answers checked against a reference on fresh
inputs, the clock on the parent's side, counts.py read for clock patches), and `harnessgym run` with the
example's fake-agent script improves the measured score over three iterations, which `harnessgym report`
plots on a page headless Chromium renders."""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.chromium import ensure_chromium, ink, render
from support.loop import harnessgym_argv, record
from support.optimization_task import (
    FAKE_SCRIPT,
    bench_command,
    cheating_script,
    dev_answer_table,
    load_bench,
    measure,
    scripted_counts,
    workspace,
)

from mcp_host import ProcResult, run_process

pytestmark = pytest.mark.anyio

SCREENSHOTS = Path("/tmp/harnessgym-report-screenshots")
"""Where the report's screenshot is also kept, to look at after a run."""

FAST = scripted_counts()[3]
"""The fake agent's last candidate (bisect on a sorted list): correct and quick."""

BODY = FAST.split("from bisect import bisect_left\n", 1)[1]
"""The candidate without its import, to prepend other imports to."""


def brute_force(xs: list[int]) -> list[int]:
    return [sum(1 for y in xs[i + 1 :] if y < x) for i, x in enumerate(xs)]


def test_the_reference_and_every_scripted_candidate_agree_with_brute_force() -> None:
    bench = load_bench()
    candidates: list[Callable[[list[int]], list[int]]] = []
    for source in scripted_counts().values():
        namespace: dict[str, Any] = {}
        exec(compile(source, "counts.py", "exec"), namespace)
        candidates.append(namespace["smaller_after"])
    rng = random.Random(7)
    lists = [[], [5], [2, 2, 2], [3, 1, 2, 1, 3]] + [
        [rng.randrange(-5, 6) for _ in range(rng.randrange(60))] for _ in range(200)
    ]
    for xs in [*lists, *bench.dev_cases()]:
        want = brute_force(xs)
        assert bench.reference(list(xs)) == want
        assert all(candidate(list(xs)) == want for candidate in candidates)
    assert len(candidates) == 3


async def test_a_correct_candidate_passes_with_a_score_in_both_modes(tmp_path: Path) -> None:
    # Its print at import goes to stderr, never into the answer the benchmark reads.
    ws = workspace(tmp_path, FAST + "\nprint('loaded')\n")
    for mode in ("dev", "final"):
        measured = await measure(ws, mode, repeats=2)
        assert measured.passed and measured.states_pass and measured.return_code == 0, measured.message
        assert measured.payload is not None and measured.payload["mode"] == mode
        metrics = measured.payload["metrics"]
        assert isinstance(metrics, dict) and isinstance(metrics["repeats_ms"], list)
        assert len(metrics["repeats_ms"]) == 2
        assert measured.score is not None and measured.score > 0 and measured.score == metrics["best_ms"]
        assert isinstance(metrics["vs_reference"], float) and metrics["vs_reference"] > 0
    assert sorted(p.name for p in ws.iterdir()) == ["bench.py", "counts.py", "task.md"]


async def test_the_untouched_example_passes_the_dev_benchmark(tmp_path: Path) -> None:
    measured = await measure(workspace(tmp_path), "dev", repeats=1)
    assert measured.passed and measured.score is not None


WRONG = {
    "counts equal items": FAST.replace("bisect_left", "bisect_right"),
    "raises": BODY.replace("    seen = []", "    raise ValueError('not yet')"),
    "floats": BODY.replace("counts[i] = k", "counts[i] = float(k)"),
    "too short": BODY.replace("return counts", "return counts[1:]"),
    "no such function": "def smaller_before(xs):\n    return [0] * len(xs)\n",
}


@pytest.mark.parametrize("source", WRONG.values(), ids=list(WRONG))
async def test_a_wrong_answer_fails_with_no_score(tmp_path: Path, source: str) -> None:
    measured = await measure(workspace(tmp_path, source), "final", repeats=1)
    assert not measured.passed and measured.score is None and measured.return_code == 1
    assert measured.payload is not None and measured.payload["status"] == "failed"
    assert "score" not in measured.payload and measured.payload["error"]


async def test_a_candidate_that_never_answers_fails_at_the_benchmarks_timeout(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "def smaller_after(xs):\n    while True:\n        pass\n")
    measured = await measure(ws, "dev", 1, "--timeout", "2")
    assert not measured.passed and measured.score is None
    assert measured.payload is not None and "no answer within 2 s" in str(measured.payload["error"])


TIMER_PATCHES = {
    "import time": "import time\ntime.perf_counter = lambda: 0.0\n",
    "from time": "from time import perf_counter\n",
    "sys.modules": "import sys\nsys.modules['time'].perf_counter = lambda: 0.0\n",
    "__import__": "__import__('time').perf_counter = lambda: 0.0\n",
    "builtins": "__builtins__['open']\n",
    "a workspace module": "import helper\n",
}


@pytest.mark.parametrize("patch", TIMER_PATCHES.values(), ids=list(TIMER_PATCHES))
async def test_a_candidate_that_touches_the_clock_fails_before_it_runs(tmp_path: Path, patch: str) -> None:
    ws = workspace(tmp_path, "from bisect import bisect_left\n" + patch + BODY)
    (ws / "helper.py").write_text("import time\ntime.perf_counter = lambda: 0.0\n")
    measured = await measure(ws, "final", repeats=1)
    assert not measured.passed and measured.score is None
    assert measured.payload is not None and "line 2" in str(measured.payload["error"])


async def test_answers_hard_coded_for_the_dev_inputs_pass_dev_and_fail_final(tmp_path: Path) -> None:
    ws = workspace(tmp_path, dev_answer_table())
    dev = await measure(ws, "dev", repeats=1)
    assert dev.passed and dev.score is not None
    final = await measure(ws, "final", repeats=1)
    assert not final.passed and final.score is None
    assert final.payload is not None and "wrong answer" in str(final.payload["error"])


async def cli(tmp_path: Path, *args: str, timeout: float = 60) -> tuple[ProcResult, str, str]:
    n = len(list(tmp_path.glob("cli-*.out")))
    out, err = tmp_path / f"cli-{n}.out", tmp_path / f"cli-{n}.err"
    result = await run_process(harnessgym_argv(*args), timeout=timeout, stdout_path=out, stderr_path=err,
                               env={**os.environ, "TMPDIR": str(tmp_path)}, cwd=tmp_path)  # fmt: skip
    return result, out.read_text(), err.read_text()


async def fake_run(tmp_path: Path, ws: Path, script: Path) -> tuple[Path, dict[str, Any]]:
    ran, out, err = await cli(tmp_path, "run", "--task", str(ws / "task.md"), "--workspace", str(ws),
                              "--iterations", "3", "--runner", "fake", "--fake-script", str(script),
                              "--fake-home", str(tmp_path / "fake-home"), "--optimization-mode",
                              "--post-attempt-command", bench_command("final"), timeout=200)  # fmt: skip
    assert ran.returncode == 0, out + err
    [run_dir] = (ws / ".harnessgym" / "runs").iterdir()
    return run_dir, json.loads((run_dir / "summary.json").read_text())


@pytest.fixture
def chromium() -> None:
    ensure_chromium()  # installed from Debian's packages when missing (also done once at collection)


@pytest.mark.slow
async def test_three_fake_iterations_improve_the_measured_score_and_the_report_plots_it(
    tmp_path: Path, chromium: None
) -> None:
    ws = workspace(tmp_path)
    run_dir, summary = await fake_run(tmp_path, ws, FAKE_SCRIPT)
    baseline = summary["optimization"]["baseline_score"]
    records = [record(ws, run_dir.name, n) for n in (1, 2, 3)]
    # Every score is harnessgym's own measurement of the final benchmark, never the agent's word.
    for rec in records:
        assert rec.post_attempt is not None and rec.post_attempt.passed
        assert rec.score == rec.post_attempt.score and rec.optimization is not None
        assert rec.optimization.current_score == rec.score and rec.optimization.baseline_score == baseline
    first, second, third = (rec.score for rec in records)
    assert first is not None and second is not None and third is not None
    assert records[0].agent_claim is not None and records[0].agent_claim.score == 1.0 != first
    assert any("only the measurement counts" in p for p in records[0].problems)
    # O(n^2) with a cheaper inner loop, then O(n log n) twice: compared with the baseline this run measured,
    # with margins a loaded machine keeps (typically 1.8x, 30x and 50x).
    assert first < baseline
    assert second < first / 4 and second < baseline / 10 and third < baseline / 10
    assert summary["optimization"]["improved"] and summary["optimization"]["best_iteration"] in (2, 3)
    assert summary["optimization"]["best_score"] == min(second, third)
    # The workspace is left as the best iteration made it (restored if iteration 3 measured worse than 2).
    best_at = summary["optimization"]["best_iteration"]
    assert summary["restored_best"]["reason"] == ("already_best" if best_at == 3 else "restored")
    assert (ws / "counts.py").read_text() == scripted_counts()[best_at]
    # Iterations 2 and 3 measured through the MCP server iteration 1 built, served by the host.
    calls = [json.loads(line) for line in (ws / ".harnessgym" / "mcp_calls.jsonl").read_text().splitlines()]
    used = {(c["iteration"], c["server"], c["tool_name"], c["status"]) for c in calls if c.get("phase") == "attempt"}
    assert used == {(n, "benchrunner", "run_benchmark", "completed") for n in (2, 3)}, used

    ok, shown, err = await cli(tmp_path, "report", str(run_dir))
    assert ok.returncode == 0 and f"Report: {run_dir / 'report.html'}" in shown, err
    page = (run_dir / "report.html").read_text()
    assert "<h2>Score per iteration</h2>" in page and page.count("<svg") >= 2
    assert f"| 3 | claims incomplete | none | {third:.4g} |" in (run_dir / "report.md").read_text()
    rendering = await render(run_dir / "report.html", tmp_path / "optimization-report.png")
    assert rendering.console == []
    assert ink(rendering.screenshot) > 0.02, "the screenshot is blank"
    SCREENSHOTS.mkdir(exist_ok=True)
    shutil.copy(rendering.screenshot, SCREENSHOTS / "optimization.png")


CHEATS = {
    "hard-coded dev answers": dev_answer_table(),
    "a patched clock": "import time\n\ntime.perf_counter = lambda: 0.0\n" + FAST,
}


@pytest.mark.slow
@pytest.mark.parametrize("cheat", CHEATS.values(), ids=list(CHEATS))
async def test_a_cheating_third_attempt_scores_nothing_and_the_best_workspace_is_restored(
    tmp_path: Path, cheat: str
) -> None:
    ws = workspace(tmp_path)
    run_dir, summary = await fake_run(tmp_path, ws, cheating_script(tmp_path / "cheat.json", cheat))
    first, second, third = (record(ws, run_dir.name, n) for n in (1, 2, 3))
    assert first.score is not None and second.score is not None and second.score < first.score
    # The cheat claims 0.001 ms; harnessgym's own run of the final benchmark fails it and records no score.
    assert third.agent_claim is not None and third.agent_claim.score == 0.001
    assert third.post_attempt is not None and not third.post_attempt.passed and third.score is None
    assert summary["optimization"]["best_iteration"] == 2
    assert summary["optimization"]["best_score"] == second.score
    restored = summary["restored_best"]
    assert restored["restored"] and restored["reason"] == "restored" and restored["iteration"] == 2
    assert restored["post_restore_passed"] and restored["post_restore_score"] is not None
    assert (ws / "counts.py").read_text() == scripted_counts()[2]
