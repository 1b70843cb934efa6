"""Measuring and keeping the best: the post-attempt command, the baseline of an optimization run, each
iteration's standing against it (with the best-workspace checkpoint), and restoring the best at the end.

The best score so far is always derived from disk (the baseline record and the iteration records), never kept
in memory, so a resumed or continued run sees exactly what the interrupted one saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from harnessgym import store
from harnessgym.evidence.scores import (
    Measurement,
    OptimizationStep,
    OptimizationSummary,
    RestoredBest,
    is_better,
    progress,
    reached,
)
from harnessgym.evidence.verify import measurement_of, run_measurement
from harnessgym.loop import prompting
from harnessgym.loop.context import RunContext
from harnessgym.records import AgentClaim, IterationRecord, Verdict

__all__ = ["attempt_note", "measure_baseline", "post_attempt", "restore_best", "score_iteration", "summary_block"]


async def _run(ctx: RunContext, rule: Literal["post_attempt", "verify"], stdout: Path, stderr: Path) -> Measurement:
    cfg = ctx.config
    if rule == "post_attempt":
        command, timeout, key = cfg.post_attempt_command, cfg.post_attempt_timeout, cfg.post_score_key
    else:
        command, timeout, key = cfg.verify_command, cfg.verify_timeout, cfg.score_key
    assert command is not None  # callers check; RunConfig refuses optimization mode without either command
    return await run_measurement(command, rule, workspace=ctx.layout.workspace, timeout=timeout, stdout_path=stdout,
                                 stderr_path=stderr, score_key=key, env=ctx.env,
                                 pass_env=cfg.verify_pass_env)  # fmt: skip


async def post_attempt(ctx: RunContext, record: IterationRecord) -> Measurement | None:
    """Run the post-attempt command, if configured, and keep its measurement in ``record``."""
    if not ctx.config.post_attempt_command:
        return None
    record.post_attempt = await _run(ctx, "post_attempt", *ctx.run.post_attempt_files(record.iteration))
    return record.post_attempt


async def _measure(ctx: RunContext, stdout: Path, stderr: Path) -> Measurement:
    """The workspace as it stands, measured by the score command: the post-attempt command, else the verify one."""
    return await _run(ctx, "post_attempt" if ctx.config.post_attempt_command else "verify", stdout, stderr)


def _baseline_score(ctx: RunContext) -> float | None:
    baseline = ctx.baseline
    return baseline.score if baseline is not None and baseline.passed else None


async def measure_baseline(ctx: RunContext) -> None:
    """Optimization mode: measure the untouched workspace once, before iteration 1, and checkpoint it."""
    cfg = ctx.config
    if not cfg.optimization_mode or ctx.baseline is not None:
        return
    measurement = await _measure(ctx, ctx.run.baseline_stdout, ctx.run.baseline_stderr)
    store.save_baseline(ctx.layout, ctx.run_id, measurement)
    ctx.baseline = measurement
    if cfg.restore_best and measurement.passed and measurement.score is not None:
        store.save_best_checkpoint(ctx.layout, ctx.run_id, 0, measurement.score)
    counted = measurement.passed and measurement.score is not None
    await ctx.emit(
        "verdict" if counted else "warning",
        f"baseline {cfg.measure_score_key}: {measurement.score}"
        if counted else f"the baseline measurement {measurement.status} without a score that counts; "
        "every measured score will count as an improvement",
        data={"baseline": True, "status": measurement.status, "passed": measurement.passed,
              "score": measurement.score},
    )  # fmt: skip


def _scores(ctx: RunContext, records: Mapping[int, IterationRecord]) -> tuple[float | None, int | None]:
    """The best counted score and where it came from (0 = the baseline), over the baseline and ``records``."""
    hib = ctx.config.higher_is_better
    best = _baseline_score(ctx)
    where = 0 if best is not None else None
    for n in sorted(records):
        step = records[n].optimization
        if step is not None and step.current_score is not None and is_better(step.current_score, best, hib):
            best, where = step.current_score, n
    return best, where


def _earlier(ctx: RunContext, n: int) -> dict[int, IterationRecord]:
    """Iterations before ``n`` as the run holds them (the agent may have rewritten their files on disk)."""
    return {k: record for k, record in ctx.records.items() if k < n}


def score_iteration(
    ctx: RunContext, record: IterationRecord, verdict: Verdict | None, post: Measurement | None
) -> None:
    """Optimization mode: the score that counts, solved = target reached, and a checkpoint if it is the best."""
    cfg = ctx.config
    n = record.iteration
    hib = cfg.higher_is_better
    measured = post if post is not None else measurement_of(verdict, "verify") if verdict is not None else None
    gates = [m.passed for m in (post, verdict) if m is not None]
    counted = measured.score if measured is not None and gates and all(gates) else None
    best, best_at = _scores(ctx, _earlier(ctx, n))
    improved = counted is not None and is_better(counted, best, hib)
    if improved and cfg.restore_best and counted is not None:
        store.save_best_checkpoint(ctx.layout, ctx.run_id, n, counted)
    baseline = _baseline_score(ctx)
    delta, relative = progress(counted, baseline, hib)
    record.score = counted
    record.target_reached = reached(counted, cfg.stop_score, hib)
    record.solved = record.target_reached
    record.evidence = "verified" if record.solved else "none"
    record.optimization = OptimizationStep(
        score_key=cfg.measure_score_key, higher_is_better=hib,
        current_score=counted, baseline_score=baseline, previous_best_score=best, previous_best_iteration=best_at,
        improved_from_previous_best=improved, improved_from_baseline=delta is not None and delta > 0,
        delta_from_baseline=delta, relative_improvement=relative, target_reached=record.target_reached,
        checkpointed=improved and cfg.restore_best,
    )  # fmt: skip
    claim = record.agent_claim or AgentClaim()
    if claim.score is not None and claim.score != counted:
        record.problems.append(
            f"result.json of iteration {n} claims a score of {claim.score:g}; harnessgym measured "
            f"{'nothing that counts' if counted is None else f'{counted:g}'}, and only the measurement counts"
        )
    if measured is not None and counted is None and measured.score is not None:
        record.problems.append(
            f"the score {measured.score:g} measured after attempt {n} does not count: the "
            f"{'post-attempt' if post is not None and not post.passed else 'verify'} command did not pass"
        )


def attempt_note(ctx: RunContext, n: int) -> str:
    """What attempt ``n``'s prompt says about the optimization so far ("" outside optimization mode)."""
    cfg = ctx.config
    if not cfg.optimization_mode or cfg.measure_command is None:
        return ""
    best, _ = _scores(ctx, _earlier(ctx, n))
    return prompting.optimization_note(
        command=cfg.measure_command, score_key=cfg.measure_score_key,
        higher_is_better=cfg.higher_is_better, baseline=_baseline_score(ctx), best=best,
    )  # fmt: skip


def summary_block(ctx: RunContext, records: Mapping[int, IterationRecord]) -> OptimizationSummary | None:
    cfg = ctx.config
    if not cfg.optimization_mode:
        return None
    best, where = _scores(ctx, records)
    baseline = _baseline_score(ctx)
    delta, relative = progress(best, baseline, cfg.higher_is_better)
    return OptimizationSummary(
        score_key=cfg.measure_score_key,
        higher_is_better=cfg.higher_is_better, restore_best=cfg.restore_best, baseline_score=baseline,
        best_score=best, best_iteration=where, improved=where is not None and where > 0,
        absolute_delta_from_baseline=delta, relative_improvement=relative,
    )  # fmt: skip


async def restore_best(ctx: RunContext) -> RestoredBest | None:
    """At the normal end of an optimization run: put the best checkpoint back if the workspace is not it, and
    measure it again."""
    cfg = ctx.config
    if not (cfg.optimization_mode and cfg.restore_best):
        return None
    manifest = store.read_best_checkpoint(ctx.layout, ctx.run_id)
    if manifest is None:
        return RestoredBest(
            restored=False,
            reason="no_checkpoint",
            message="no measurement passed with a score, so there is no best workspace to restore",
        )
    at, score = manifest.iteration, manifest.score
    if store.workspace_matches_checkpoint(ctx.layout, ctx.run_id):
        return RestoredBest(
            restored=False,
            reason="already_best",
            iteration=at,
            score=score,
            message=f"the workspace already is the best one (iteration {manifest.iteration})",
        )
    try:
        count = store.restore_best_checkpoint(ctx.layout, ctx.run_id)
    except OSError as exc:
        return RestoredBest(restored=False, reason="failed", iteration=at, score=score,
                            message=f"restoring the best workspace of iteration {manifest.iteration} failed: {exc}; "
                            f"it is kept in {ctx.run.best_checkpoint}")  # fmt: skip
    measurement = await _measure(ctx, ctx.run.restored_stdout, ctx.run.restored_stderr)
    await ctx.emit("verdict", f"restored the best workspace (iteration {manifest.iteration}, score "
                   f"{manifest.score:g}); re-measured: {measurement.status}, score {measurement.score}",
                   data={"restored_best": True, "iteration": manifest.iteration, "passed": measurement.passed,
                         "score": measurement.score})  # fmt: skip
    return RestoredBest(
        restored=True, reason="restored", iteration=at, score=score, restored_file_count=count,
        post_restore=measurement, post_restore_passed=measurement.passed, post_restore_score=measurement.score,
        message=f"the workspace was put back to iteration {manifest.iteration}",
    )  # fmt: skip
