"""Optimization runs and the post-attempt command: measured scores, the baseline, the best checkpoint, restore.

The workspace holds ``score.txt`` and ``measure.py`` (prints ``{"status": "passed", "score": <score.txt>}``);
the fake agent writes a new score per iteration. Lower is better unless a test says otherwise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest
from support.loop import (
    config,
    hang_once,
    hanging_children,
    harnessgym_argv,
    marked_processes,
    record,
    result,
    run_bounded,
    script,
    step,
    wait_until,
)
from support.optimization import MEASURE, manifest, opt_config, run_dir, scores, workspace

from harnessgym import resume_async, run_async
from harnessgym.config import RunConfig
from harnessgym.evidence.scores import Measurement, OptimizationSummary
from harnessgym.loop.prompting import DEPTH_GUIDANCE
from harnessgym.records import RunSummary
from mcp_host._supervise.procs import run_process

pytestmark = pytest.mark.anyio


@pytest.mark.slow
async def test_baseline_and_every_attempt_are_measured_and_compared_direction_aware(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    summary = await run_bounded(opt_config(ws, tmp_path, scores("8", "6")))
    baseline = Measurement.model_validate_json((run_dir(ws, summary.run_id) / "baseline/baseline.json").read_text())
    assert (baseline.status, baseline.passed, baseline.score) == ("completed", True, 10.0)
    assert (run_dir(ws, summary.run_id) / "baseline/baseline.stderr.txt").read_text() == "measuring...\n"
    first, second = record(ws, summary.run_id, 1), record(ws, summary.run_id, 2)
    assert first.post_attempt is not None and second.post_attempt is not None
    assert (first.post_attempt.command, first.post_attempt.status, first.post_attempt.passed) == (
        MEASURE, "completed", True)  # fmt: skip
    assert (first.score, second.score) == (8.0, 6.0)
    assert (run_dir(ws, summary.run_id) / "iterations/2/post_attempt.stdout.txt").is_file()
    assert second.optimization is not None
    assert second.optimization.model_dump() == {
        "score_key": "score", "higher_is_better": False, "current_score": 6.0, "baseline_score": 10.0,
        "previous_best_score": 8.0, "previous_best_iteration": 1, "improved_from_previous_best": True,
        "improved_from_baseline": True, "delta_from_baseline": 4.0, "relative_improvement": 0.4,
        "target_reached": False, "checkpointed": True,
    }  # fmt: skip
    assert (summary.status, summary.solved) == ("not_solved", False)
    assert summary.optimization == OptimizationSummary(
        score_key="score", higher_is_better=False, restore_best=True, baseline_score=10.0, best_score=6.0,
        best_iteration=2, improved=True, absolute_delta_from_baseline=4.0, relative_improvement=0.4,
    )  # fmt: skip
    assert summary.restored_best is not None and summary.restored_best.reason == "already_best"
    assert manifest(ws, summary.run_id).iteration == 2


@pytest.mark.slow
async def test_reaching_the_target_by_measurement_solves_and_stops_the_run(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "1")
    steps = scores("3", "4", "9")
    summary = await run_bounded(opt_config(ws, tmp_path, steps, stop_score=5.0, higher_is_better=True))
    assert (summary.status, summary.solved, summary.evidence, summary.solved_iteration) == (
        "solved", True, "verified", 3)  # fmt: skip
    last = record(ws, summary.run_id, 3)
    assert (
        last.status == "solved"
        and last.target_reached
        and last.skipped_phases == ["reflection", "build", "qualify", "activate"]
    )
    assert summary.optimization is not None and summary.optimization.relative_improvement == 8.0


@pytest.mark.slow
async def test_a_worse_final_iteration_gets_the_best_workspace_restored_and_measured_again(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    junk = {"do": "write", "path": "notes/scratch.txt", "text": "later junk"}
    summary = await run_bounded(opt_config(ws, tmp_path, scores("7", "9", extra={2: [junk]})))
    assert (ws / "score.txt").read_text() == "7\n"
    assert not (ws / "notes").exists(), "files the worse iteration added are gone"
    assert (ws / ".git" / "HEAD").is_file() and (ws / ".harnessgym" / "runs").is_dir()
    restored = summary.restored_best
    assert restored is not None and restored.post_restore is not None
    assert (restored.restored, restored.iteration, restored.score, restored.post_restore_passed,
            restored.post_restore_score) == (True, 1, 7.0, True, 7.0)  # fmt: skip
    assert restored.post_restore.stdout_path == run_dir(ws, summary.run_id) / "checkpoints/restored_best.stdout.txt"
    best = manifest(ws, summary.run_id)
    # the whole workspace but .harnessgym: .git too, so a restore gives back exactly what scored best
    assert (best.iteration, best.score, best.files) == (1, 7.0, [".git/HEAD", "measure.py", "score.txt", "task.md"])
    assert summary.optimization is not None and summary.optimization.best_iteration == 1
    assert not list((run_dir(ws, summary.run_id) / "checkpoints").glob("best.*")), "no partial or old swap left"


async def test_the_agents_own_score_never_overrides_the_measured_one(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    lying = step("attempt", {"do": "write", "path": "score.txt", "text": "9\n"},
                 result(status="solved", verified=True, metrics={"score": 0.0}), iteration=1)  # fmt: skip
    summary = await run_bounded(opt_config(ws, tmp_path, [lying], stop_score=1.0))
    rec = record(ws, summary.run_id, 1)
    assert rec.agent_claim is not None and rec.agent_claim.score == 0.0
    assert (rec.score, rec.solved, rec.target_reached, summary.solved) == (9.0, False, False, False)
    assert any("claims a score of 0" in p and "measured 9" in p for p in rec.problems)


async def test_a_failing_measurement_counts_no_score_and_takes_no_checkpoint(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    summary = await run_bounded(opt_config(ws, tmp_path, scores("broken")))
    rec = record(ws, summary.run_id, 1)
    assert rec.post_attempt is not None and (rec.post_attempt.status, rec.post_attempt.passed) == ("failed", False)
    assert rec.score is None and rec.optimization is not None and not rec.optimization.checkpointed
    assert summary.restored_best is not None and summary.restored_best.restored
    assert (ws / "score.txt").read_text() == "10\n", "the baseline (iteration 0) was the best workspace"


async def test_without_a_verify_command_the_post_attempt_command_decides_solved(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    claim_solved = step("attempt", {"do": "write", "path": "score.txt", "text": "broken\n"},
                        result(status="solved", verified=True), iteration=1)  # fmt: skip
    fake = script(tmp_path, claim_solved, step("attempt", {"do": "write", "path": "score.txt", "text": "5\n"}))
    summary = await run_bounded(config(ws, tmp_path, fake, post_attempt_command=MEASURE, qualify_artifacts=False))
    first, second = record(ws, summary.run_id, 1), record(ws, summary.run_id, 2)
    assert (first.solved, first.evidence) == (False, "none")
    assert any("claimed iteration 1 solved" in p and "says failed" in p for p in first.problems)
    assert (second.solved, second.evidence, second.score, summary.solved_iteration) == (True, "verified", 5.0, 2)
    assert first.optimization is None and summary.optimization is None and summary.restored_best is None


async def test_an_interrupted_run_resumes_with_its_best_checkpoint_and_best_score(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    cfg = opt_config(ws, tmp_path, scores("7", "9", extra={2: [{"do": "write", "path": "score.txt",
                                                               "text": "9\n"}, hang_once(1)]}))  # fmt: skip
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_async, cfg)
        await wait_until(lambda: bool(hanging_children(ws, 2)))
        tg.cancel_scope.cancel()
    assert manifest(ws, cfg.run_id).iteration == 1 and (ws / "score.txt").read_text() == "9\n"
    with anyio.fail_after(40):
        final = await resume_async(ws, cfg.run_id)
    second = record(ws, cfg.run_id, 2)
    assert second.optimization is not None
    assert (second.optimization.previous_best_score, second.optimization.previous_best_iteration) == (7.0, 1)
    assert final.restored_best is not None and (final.restored_best.restored, final.restored_best.iteration) == (
        True, 1)  # fmt: skip
    assert (ws / "score.txt").read_text() == "7\n" and marked_processes(ws) == []
    assert final.optimization is not None and (final.optimization.best_score, final.optimization.baseline_score) == (
        7.0, 10.0)  # fmt: skip


async def test_harness_depth_guidance_reaches_the_reflection_and_build_prompts(tmp_path: Path) -> None:
    for depth in ("standard", "deep"):
        ws = workspace(tmp_path / depth)
        cfg = opt_config(ws, tmp_path / depth, scores("8"), harness_depth=depth)
        summary = await run_bounded(cfg)
        one = run_dir(ws, summary.run_id) / "iterations" / "1"
        for phase in ("reflection", "build"):
            prompt = (one / f"{phase}.prompt.txt").read_text()
            assert DEPTH_GUIDANCE[depth] in prompt and len(prompt) < 8000, phase
        reflection = (one / "reflection.prompt.txt").read_text()
        assert "counted score 8, baseline 10" in reflection
        attempt = (one / "attempt.prompt.txt").read_text()
        assert "This is an optimization task" in attempt and "baseline 10" in attempt
    assert "history/ranking" in DEPTH_GUIDANCE["deep"] and "small" in DEPTH_GUIDANCE["standard"]


def test_optimization_mode_needs_a_command_to_measure_with(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"optimization_mode: .*post_attempt_command or verify_command"):
        RunConfig(workspace=tmp_path, task_text="t", optimization_mode=True)
    cfg = RunConfig(workspace=tmp_path, task_text="t", verify_command="v", score_key="loss")
    assert (cfg.post_score_key, cfg.post_attempt_timeout, cfg.restore_best, cfg.harness_depth) == (
        "loss", 120.0, True, "deep")  # fmt: skip


async def test_upstream_run_flags_work_from_the_command_line(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    fake = script(tmp_path, *scores("7", "9"))
    proc = await run_process(harnessgym_argv(
        "run", "--task", "task.md", "--workspace", str(ws), "--iterations", "2", "--run-id", "cli",
        "--fake-script", str(fake), "--no-qualify-artifacts", "--optimization-mode", "--stop-score", "1",
        "--post-attempt-command", MEASURE, "--post-attempt-score-key", "latency", "--post-attempt-timeout", "30s",
        "--restore-best", "--harness-depth", "standard"),
        cwd=ws, timeout=60, stdout_path=tmp_path / "out.txt", stderr_path=tmp_path / "err.txt",
        env={**os.environ, "TMPDIR": str(tmp_path)})  # fmt: skip
    out = (tmp_path / "out.txt").read_text()
    assert proc.returncode == 0, out + (tmp_path / "err.txt").read_text()
    for line in (
        "Final status: not_solved",
        "Optimization improved: True",
        "Baseline score: 10",
        "Best score: 7 (iteration 1)",
        "Restored best: iteration 1, re-measured passed, score 7",
    ):
        assert line in out, line
    saved = json.loads((run_dir(ws, "cli") / "run_config.json").read_text())
    assert (saved["post_attempt_score_key"], saved["post_attempt_timeout"], saved["harness_depth"]) == (
        "latency", 30.0, "standard")  # fmt: skip
    summary = RunSummary.model_validate_json((run_dir(ws, "cli") / "summary.json").read_text())
    assert summary.optimization is not None and summary.optimization.score_key == "latency"
