"""The state machine: run the phases of each iteration in order, journal each one, stop when solved.

A run can end four ways: solved or out of iterations (``run_finished``), cancelled (Ctrl-C, SIGTERM,
a cancelled ``run_async``: the agent's tree is killed, summary.json says ``interrupted``), or killed outright
(kill -9: nothing more is written). Everything but ``run_finished`` is resumable from the journal, and any
run can be continued by more iterations (:mod:`harnessgym.loop.pickup`). In optimization mode the untouched
workspace is measured before iteration 1, and a normal end puts the best-scoring workspace back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

import anyio

from harnessgym import store
from harnessgym.artifacts.registry import ActivationRecord
from harnessgym.config import RunConfig, resolve_runner
from harnessgym.errors import ConfigError, UnknownRunnerError
from harnessgym.events import Emitter, EventHandler
from harnessgym.evidence.scores import RestoredBest
from harnessgym.jobs.orphans import marker_env, reap_orphans
from harnessgym.jobs.runs import build_summary
from harnessgym.loop import attempt as attempt_mod
from harnessgym.loop import optimize
from harnessgym.loop import prepare as prepare_mod
from harnessgym.loop import qualify as qualify_mod
from harnessgym.loop import reflect as reflect_mod
from harnessgym.loop.context import RunContext
from harnessgym.loop.host import stop_host
from harnessgym.records import IterationRecord, LoopPhase, RunStatus, RunSummary, utcnow
from harnessgym.secrecy import seal_environ
from runners import Runner

__all__ = ["PHASES", "drive", "ends_run", "start_run", "with_context"]

PhaseFn = Callable[[RunContext, IterationRecord], Awaitable[None]]
PHASES: tuple[tuple[LoopPhase, PhaseFn], ...] = (
    ("prepare", prepare_mod.prepare),
    ("attempt", attempt_mod.attempt),
    ("verify", attempt_mod.verify),
    ("reflection", reflect_mod.reflection),
    ("build", reflect_mod.build),
    ("qualify", qualify_mod.qualify),
    ("activate", qualify_mod.activate),
)
_AFTER_SOLVE: frozenset[LoopPhase] = frozenset({"reflection", "build", "qualify", "activate"})


def ends_run(config: RunConfig, record: IterationRecord) -> bool:
    """Whether ``record`` ends the run. With a stop score only harnessgym's measurement reaching it does (as in
    HarnessGym 0.1.1, whose README relies on ``--stop-score 1`` to force every iteration): a passing verify
    command or the agent's "solved" is recorded, and the loop goes on to reflect, build and try again."""
    if config.stop_score is not None:
        return record.target_reached
    return record.solved


TUI_GOAL_NOTICE = (
    "--runner tui-goal: running Codex in goal mode through `codex app-server` (no terminal UI); each attempt "
    "pursues its goal (default: the task's own success condition)"
)
"""One line for HarnessGym 0.1.1's runner name: what it means here."""


def _runner(config: RunConfig, env: dict[str, str]) -> Runner:
    from runners import RUNNERS, UnknownRunner, get_runner

    options = config.runner_options.model_copy(
        update={"agent_env": {**config.runner_options.agent_env, **env}, "codex_watch": config.watch}
    )
    try:
        return get_runner(config.runner, options)
    except UnknownRunner as exc:
        raise UnknownRunnerError(config.runner, tuple(RUNNERS)) from exc


def _limit(config: RunConfig, phase: LoopPhase, n: int) -> float | None:
    """The time limit of ``phase`` in iteration ``n``, for progress (None: bounded by its parts, not one limit)."""
    limits: dict[LoopPhase, float] = {
        "attempt": config.attempt_timeout_for(n), "verify": config.verify_timeout,
        "reflection": config.reflection_limit, "build": config.build_timeout,
    }  # fmt: skip
    return limits.get(phase)


async def _run_iteration(ctx: RunContext, record: IterationRecord) -> None:
    n = record.iteration
    for name, fn in PHASES:
        if name in record.completed_phases:
            continue
        if name in _AFTER_SOLVE and (
            ctx.config.attempt_only or (ends_run(ctx.config, record) and not ctx.config.build_after_solve)
        ):
            record.skipped_phases.append(name)
        else:
            await ctx.emit(
                "phase_started",
                f"iteration {n}: {name}",
                iteration=n,
                phase=name,
                data={"limit_seconds": _limit(ctx.config, name, n)},
            )
            ctx.journal("phase_started", iteration=n, phase=name)
            await fn(ctx, record)
        record.completed_phases.append(name)
        ctx.save(record)
        ctx.journal("phase_completed", iteration=n, phase=name, record=record)
        if name not in record.skipped_phases:
            outcome = record.phases.get(name)
            await ctx.emit(
                "phase_finished",
                f"iteration {n}: {name} done",
                iteration=n,
                phase=name,
                data={
                    "status": record.status,
                    "cost_usd": outcome.cost_usd if outcome else None,
                    "phase_status": outcome.status if outcome else None,
                },
            )
    ctx.journal("iteration_completed", iteration=n, record=record)
    goal = (
        ""
        if record.goal is None
        else (f" (goal {record.goal.outcome} after {record.goal.turns} turn(s), {record.goal.tokens_used} tokens)")
    )
    await ctx.emit(
        "iteration_finished",
        f"iteration {n}: {record.status}{goal}",
        iteration=n,
        data={"status": record.status, "solved": record.solved, "evidence": record.evidence, "score": record.score},
    )


async def drive(
    ctx: RunContext,
    records: dict[int, IterationRecord],
    first: int,
    *,
    past_solved: bool = False,
    measure_baseline: bool = False,
) -> RunSummary:
    """Run iterations ``first`` to ``ctx.config.iterations`` (an unfinished one after its last journaled phase)
    and finish the run; ``past_solved`` keeps going although an earlier iteration solved the task;
    ``measure_baseline`` measures the untouched workspace first in optimization mode, unless it was."""
    status: RunStatus = "not_solved"
    message = ""
    current: IterationRecord | None = None
    restored: RestoredBest | None = None
    ctx.records = records
    if ctx.config.optimization_mode:
        ctx.baseline = store.read_baseline(ctx.layout, ctx.run_id)
    try:
        if measure_baseline:
            await optimize.measure_baseline(ctx)
        if past_solved or not any(ends_run(ctx.config, r) for r in records.values()):
            for n in range(first, ctx.config.iterations + 1):
                current = records.get(n) or IterationRecord(run_id=ctx.run_id, iteration=n)
                records[n] = current
                if not current.completed_phases:
                    await ctx.emit("iteration_started", f"iteration {n} of {ctx.config.iterations}", iteration=n)
                await _run_iteration(ctx, current)
                attempt = current.phases.get("attempt")
                if attempt is not None and attempt.error_kind == "not_started":
                    # No later iteration can do better: the agent CLI itself is missing or unrunnable.
                    message = f"the agent could not be started ({attempt.message}); fix the runner options"
                    return await _finish(ctx, records, None, "error", message)
                if ends_run(ctx.config, current):
                    break
        status = "solved" if any(r.solved for r in records.values()) else "not_solved"
        restored = await optimize.restore_best(ctx)
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True):
            await _finish(ctx, records, current, "interrupted", "the run was interrupted; resume it to go on")
        raise
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await _finish(ctx, records, current, "error", f"the run stopped on an error: {exc}")
        raise
    return await _finish(ctx, records, None, status, message, restored)


async def _finish(
    ctx: RunContext,
    records: dict[int, IterationRecord],
    current: IterationRecord | None,
    status: RunStatus,
    message: str,
    restored: RestoredBest | None = None,
) -> RunSummary:
    if current is not None and status in ("interrupted", "error") and "activate" not in current.completed_phases:
        current.status = "interrupted"
        ctx.save(current)
    registry, _ = store.read_registry(ctx.layout)
    summary = build_summary(
        ctx.layout,
        ctx.run_id,
        [records[k] for k in sorted(records)],
        status=status,
        started_at=ctx.started_at,
        higher_is_better=ctx.config.higher_is_better,
        registry=registry,
        message=message,
        optimization=optimize.summary_block(ctx, records),
        restored_best=restored,
        runner=ctx.config.runner,
        baseline=ctx.baseline,
    )
    store.write_model(ctx.run.summary, summary)
    finished = status in ("solved", "not_solved")
    kind: Literal["run_finished", "run_interrupted"] = "run_finished" if finished else "run_interrupted"
    ctx.journal(kind, message=message or status)
    await ctx.emit(
        kind,
        f"run {ctx.run_id}: {status}",
        data={"status": status, "solved": summary.solved, "evidence": summary.evidence},
    )
    return summary


async def with_context(
    config: RunConfig,
    on_event: EventHandler | None,
    body: Callable[[RunContext], Awaitable[RunSummary]],
    started_at: datetime | None = None,
) -> RunSummary:
    """Lock the workspace, set up the runner and the run's context, run ``body``; always clean up after it."""
    seal_environ()  # the run holds the agent's key and runs agent-written code (verify, self-tests)
    layout = store.ensure_workspace(config.workspace)
    lock = store.WorkspaceLock.acquire(layout, config.run_id)
    runner = None
    ctx: RunContext | None = None
    try:
        await reap_orphans(layout.workspace)
        env = marker_env(layout.workspace, config.run_id)
        runner = _runner(config, env)
        ctx = RunContext(
            config=config,
            layout=layout,
            runner=runner,
            emit=Emitter(config.run_id, on_event),
            env=env,
            started_at=started_at or utcnow(),
        )
        ctx.next_seq = len(store.read_journal(ctx.run.journal))
        ctx.activation = store.read_model(layout.activation, ActivationRecord)
        return await body(ctx)
    finally:
        with anyio.CancelScope(shield=True):
            if ctx is not None:
                await stop_host(ctx)
            if runner is not None:
                await runner.aclose()
            await reap_orphans(layout.workspace, own=True)
        lock.release()


async def start_run(config: RunConfig, on_event: EventHandler | None = None) -> RunSummary:
    """Start a new run (``runner="auto"`` is resolved first, so the recorded config names the agent used)."""
    runner, why = resolve_runner(config.runner, config.runner_options)
    if runner != config.runner:
        config = config.model_copy(update={"runner": runner})

    async def body(ctx: RunContext) -> RunSummary:
        if ctx.run.config.exists() or ctx.run.journal.exists():
            raise ConfigError(f"run id {ctx.run_id!r} is already used in {ctx.layout.workspace}; choose another "
                              "{run_id}, or continue that run (resume it)", "run_id")  # fmt: skip
        store.write_model(ctx.run.config, config)
        template = store.capture_template(ctx.layout, ctx.run_id) if config.qualify_artifacts else None
        if config.task_state == "reset":
            store.snapshot_task_state(ctx.layout, link_from=template)
        ctx.journal("run_started", message=f"runner {config.runner} ({why}), {config.iterations} iteration(s)")
        await ctx.emit(
            "run_started",
            f"run {ctx.run_id} in {ctx.layout.workspace} (runner {config.runner})",
            data={"run_dir": str(ctx.run.dir), "runner": config.runner, "iterations": config.iterations},
        )
        if config.runner == "tui-goal":
            await ctx.emit("warning", TUI_GOAL_NOTICE, data={"runner": "tui-goal"})
        return await drive(ctx, {}, 1, measure_baseline=True)

    return await with_context(config, on_event, body)
