"""Picking a saved run up again: resume an interrupted one after its last journaled phase, or continue any run
(finished or interrupted) by more iterations in the same run folder and journal.

Both start from what is on disk (``run_config.json`` and the journal), never from memory; they refuse with a
:class:`~harnessgym.errors.ResumeError` (or :class:`~harnessgym.errors.ContinueError`) that says what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from harnessgym import store
from harnessgym.config import RunConfig
from harnessgym.errors import ConfigError, ContinueError, ResumeError, ResumeOptionsError, RunNotFoundError
from harnessgym.events import EventHandler
from harnessgym.jobs.runs import is_finished
from harnessgym.loop.context import RunContext
from harnessgym.loop.driver import drive, with_context
from harnessgym.records import IterationRecord, RunSummary
from harnessgym.store.layout import Layout

__all__ = ["continue_run", "resume_run"]


@dataclass(frozen=True)
class _Saved:
    """A run as its folder records it."""

    layout: Layout
    config: RunConfig
    records: dict[int, IterationRecord]
    completed: int
    """The last iteration the journal saw complete; 0 for none."""
    finished: bool
    started_at: datetime | None
    began: bool
    """Whether any phase ever started (after that, the workspace is no longer the untouched baseline)."""


def _saved(workspace: Path, run_id: str, error: type[ResumeError]) -> _Saved:
    layout = Layout(Path(workspace).absolute())
    run = layout.run(run_id)
    if not run.dir.is_dir():
        raise RunNotFoundError(layout.workspace, run_id)
    config = store.read_model(run.config, RunConfig)
    if config is None:
        raise error(run_id, f"{run.config} is missing or unreadable; start a new run instead")
    entries = store.read_journal(run.journal)
    done = [e.iteration for e in entries if e.kind == "iteration_completed" and e.iteration is not None]
    return _Saved(
        layout=layout,
        config=config,
        records=store.iteration_records(entries),
        completed=max(done, default=0),
        finished=is_finished(entries),
        started_at=entries[0].at if entries else None,
        began=any(e.kind == "phase_started" for e in entries),
    )


async def _pick_up(
    ctx: RunContext,
    saved: _Saved,
    kind: Literal["run_resumed", "run_continued"],
    message: str,
    *,
    past_solved: bool = False,
) -> RunSummary:
    first = saved.completed + 1
    if ctx.config.qualify_artifacts and not ctx.run.template.is_dir():
        store.capture_template(ctx.layout, ctx.run_id)
    ctx.journal(kind, iteration=first, message=message)
    await ctx.emit(kind, f"run {ctx.run_id} {message}", iteration=first, data={"iterations": ctx.config.iterations})
    for record in saved.records.values():
        if record.status == "interrupted":
            record.status = "running"
    return await drive(ctx, dict(saved.records), first, past_solved=past_solved, measure_baseline=not saved.began)


RESUMABLE_CHANGES = frozenset({"iterations", "attempt_timeout", "attempt_timeouts", "build_timeout",
                               "reflection_timeout", "verify_timeout", "post_attempt_timeout"})  # fmt: skip
"""What a resume may change: how long phases may take and how many iterations the run has. Everything else
(the task, the runner, the evidence) is what the run's records were made with, so it stays."""


def _current(config: RunConfig, name: str) -> Any:
    if name.startswith("runner_options."):
        return getattr(config.runner_options, name.split(".", 1)[1])
    return getattr(config, name)


def _same(a: Any, b: Any) -> bool:
    def norm(v: Any) -> Any:
        if isinstance(v, list | tuple):
            return tuple(norm(x) for x in v)
        return str(Path(v).absolute()) if isinstance(v, Path) else v

    return bool(norm(a) == norm(b))


def _apply_changes(
    saved: _Saved, run_id: str, changes: Mapping[str, Any], spell: Callable[[str], str]
) -> tuple[RunConfig, str]:
    """The run's config with the allowed ``changes`` applied, and a note of them; others that differ refuse."""
    applied: dict[str, Any] = {}
    refused: dict[str, tuple[object, object]] = {}
    for name, value in changes.items():
        current = _current(saved.config, name)
        if _same(current, value):
            continue
        if name in RESUMABLE_CHANGES:
            applied[name] = value
        else:
            refused[name] = (value, current)
    if refused:
        raise ResumeOptionsError(run_id, refused, spell)
    if "iterations" in applied and applied["iterations"] < saved.completed:
        raise ResumeError(run_id, f"it already completed {saved.completed} iteration(s); {spell('iterations')} "
                          f"{applied['iterations']} would end it before them")  # fmt: skip
    if not applied:
        return saved.config, ""
    try:
        config = RunConfig.model_validate({**saved.config.model_dump(), **applied})
    except ValidationError as exc:
        raise ConfigError(f"the options given with the resume are invalid: {exc.errors()[0]['msg']}") from None
    note = "; options changed: " + ", ".join(
        f"{spell(k)} {_current(saved.config, k)!r} -> {v!r}" for k, v in applied.items()
    )
    return config, note


async def resume_run(
    workspace: Path,
    run_id: str,
    on_event: EventHandler | None = None,
    *,
    changes: Mapping[str, Any] | None = None,
    spell: Callable[[str], str] = str,
) -> RunSummary:
    """Continue an interrupted run after its last completed phase. ``changes`` (config field names, or
    ``runner_options.<field>``) given with the resume are applied and recorded when they are time limits or a
    higher iteration count, and refused with :class:`ResumeOptionsError` when they would change anything else;
    equal values are fine. ``spell`` names a field in messages (the CLI says ``--attempt-timeout``)."""
    saved = _saved(workspace, run_id, ResumeError)
    if saved.finished:
        raise ResumeError(run_id, "it already finished; continue it with more iterations or start a new run")
    config, note = _apply_changes(saved, run_id, changes or {}, spell)

    async def body(ctx: RunContext) -> RunSummary:
        if note:
            store.write_model(ctx.run.config, config)
        return await _pick_up(ctx, saved, "run_resumed", f"resumed at iteration {saved.completed + 1}{note}")

    return await with_context(config, on_event, body, started_at=saved.started_at)


async def continue_run(
    workspace: Path,
    run_id: str,
    iterations: int = 1,
    on_event: EventHandler | None = None,
    *,
    allow_solved: bool = False,
) -> RunSummary:
    """Run ``iterations`` more iterations of a finished or interrupted run, numbered on from its last completed
    one, in the same run folder and journal and with the same config otherwise (its iteration count is raised
    and saved, so a later resume knows the new end). An iteration left unfinished is completed first and is the
    first of the ``iterations``. A run that is still running, or one that already solved the task unless
    ``allow_solved``, is refused."""
    if iterations < 1:
        raise ConfigError(f"continuing a run takes at least one more iteration, not {iterations}")
    saved = _saved(workspace, run_id, ContinueError)
    if store.lock_is_held(saved.layout) and store.lock_holder_run(saved.layout) == run_id:
        raise ContinueError(run_id, "it is still running; wait for it to end or cancel it, then continue it")
    solved = next((saved.records[k] for k in sorted(saved.records) if saved.records[k].solved), None)
    if solved is not None and not allow_solved:
        raise ContinueError(
            run_id, f"iteration {solved.iteration} already solved the task; pass allow_solved to keep improving it"
        )
    target = saved.completed + iterations
    config = saved.config.model_copy(update={"iterations": target})

    async def body(ctx: RunContext) -> RunSummary:
        store.write_model(ctx.run.config, config)
        message = f"continued at iteration {saved.completed + 1}, up to iteration {target}"
        return await _pick_up(ctx, saved, "run_continued", message, past_solved=True)

    return await with_context(config, on_event, body, started_at=saved.started_at)
