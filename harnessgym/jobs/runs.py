"""Runs as seen from disk: summaries at the end of a run, and listings readable while a run is live."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from harnessgym import store
from harnessgym.artifacts.registry import Registry
from harnessgym.errors import RunNotFoundError
from harnessgym.events import RunInfo, RunInfoStatus
from harnessgym.evidence.scores import Measurement, OptimizationSummary, RestoredBest
from harnessgym.records import IterationBrief, IterationRecord, JournalEntry, JournalKind, RunStatus, RunSummary
from harnessgym.store import iteration_records
from harnessgym.store.layout import Layout, RunLayout

__all__ = ["build_summary", "get_run", "is_finished", "iteration_records", "list_runs"]

_LIFECYCLE: frozenset[JournalKind] = frozenset(
    {"run_started", "run_resumed", "run_continued", "run_finished", "run_interrupted"}
)


def _cost(record: IterationRecord) -> float | None:
    costs = [p.cost_usd for p in record.phases.values() if p.cost_usd is not None]
    return sum(costs) if costs else None


def brief(record: IterationRecord, path: Path, best_score: float | None = None) -> IterationBrief:
    return IterationBrief(
        iteration=record.iteration,
        status=record.status,
        solved=record.solved,
        evidence=record.evidence,
        score=record.score,
        verdict_status=record.verdict.status if record.verdict else None,
        claim_status=record.agent_claim.status if record.agent_claim else None,
        attempt_status=record.phases["attempt"].status if "attempt" in record.phases else None,
        record_path=path,
        cost_usd=_cost(record),
        result_path=path.with_name("result.json"),
        best_score=best_score,
        mcp_calls=record.mcp_calls,
        duration_seconds=max(0.0, (record.updated_at - record.started_at).total_seconds()),
        artifacts=list(record.artifacts),
    )


def _best(scores: Sequence[float | None], higher_is_better: bool) -> float | None:
    known = [s for s in scores if s is not None]
    if not known:
        return None
    return max(known) if higher_is_better else min(known)


@dataclass(frozen=True)
class _Tally:
    """What a summary and a listing both say about a run's iterations."""

    solved: IterationRecord | None
    best_score: float | None
    cost_usd: float | None
    iterations: list[IterationBrief]


def _tally(run: RunLayout, records: Sequence[IterationRecord], higher_is_better: bool) -> _Tally:
    costs = [c for c in (_cost(r) for r in records) if c is not None]
    return _Tally(
        solved=next((r for r in records if r.solved), None),
        best_score=_best([r.score for r in records], higher_is_better),
        cost_usd=sum(costs) if costs else None,
        iterations=[
            brief(r, run.iteration_record(r.iteration), _best([x.score for x in records[: i + 1]], higher_is_better))
            for i, r in enumerate(records)
        ],
    )


def build_summary(
    layout: Layout,
    run_id: str,
    records: Sequence[IterationRecord],
    *,
    status: RunStatus,
    started_at: datetime,
    higher_is_better: bool,
    registry: Registry | None = None,
    message: str = "",
    optimization: OptimizationSummary | None = None,
    restored_best: RestoredBest | None = None,
    runner: str | None = None,
    baseline: Measurement | None = None,
) -> RunSummary:
    run = layout.run(run_id)
    tally = _tally(run, records, higher_is_better)
    return RunSummary(
        run_id=run_id,
        workspace=layout.workspace,
        run_dir=run.dir,
        status=status,
        final_status=status,
        runner=runner,
        solved=tally.solved is not None,
        evidence=tally.solved.evidence if tally.solved is not None else "none",
        solved_iteration=tally.solved.iteration if tally.solved is not None else None,
        best_score=tally.best_score,
        optimization=optimization,
        baseline_post_attempt=baseline,
        restored_best=restored_best,
        iterations=tally.iterations,
        active_artifacts=[a.id for a in registry.artifacts if a.state == "active"] if registry else [],
        quarantined_artifacts=[a.id for a in registry.artifacts if a.state == "quarantined"] if registry else [],
        cost_usd=tally.cost_usd,
        started_at=started_at,
        message=message,
    )


def is_finished(entries: Sequence[JournalEntry]) -> bool:
    """Whether the run's latest start, resume or continuation ended in ``run_finished``: a continued run is
    live again, and resumable if it is interrupted or killed."""
    last = next((e.kind for e in reversed(entries) if e.kind in _LIFECYCLE), None)
    return last == "run_finished"


def _info(layout: Layout, run_id: str) -> RunInfo:
    from harnessgym.config import RunConfig

    run = layout.run(run_id)
    entries = store.read_journal(run.journal)
    config = store.read_model(run.config, RunConfig)
    summary = store.read_model(run.summary, RunSummary)
    records = iteration_records(entries)
    last = entries[-1] if entries else None
    higher = config.higher_is_better if config else False
    finished = is_finished(entries)
    status: RunInfoStatus
    if finished and summary is not None:
        status = summary.status
    elif store.lock_is_held(layout) and store.lock_holder_run(layout) == run_id:
        status = "running"
    elif entries or summary is not None:
        status = "interrupted"
    else:
        status = "unknown"
    tally = _tally(run, [records[k] for k in sorted(records)], higher)
    return RunInfo(
        run_id=run_id,
        workspace=layout.workspace,
        status=status,
        current_iteration=last.iteration if last else None,
        current_phase=last.phase if last else None,
        iterations_planned=config.iterations if config else None,
        solved=tally.solved is not None,
        evidence=tally.solved.evidence if tally.solved else "none",
        best_score=tally.best_score,
        cost_usd=tally.cost_usd,
        started_at=entries[0].at if entries else None,
        updated_at=last.at if last else None,
        iterations=tally.iterations,
        run_dir=run.dir,
    )


def list_runs(workspace: Path) -> list[RunInfo]:
    """Every run in ``workspace``, oldest first."""
    layout = Layout(Path(workspace).absolute())
    if not layout.runs.is_dir():
        return []
    return [_info(layout, d.name) for d in sorted(layout.runs.iterdir()) if d.is_dir()]


def get_run(workspace: Path, run_id: str) -> RunInfo:
    layout = Layout(Path(workspace).absolute())
    if not layout.run(run_id).dir.is_dir():
        raise RunNotFoundError(layout.workspace, run_id)
    return _info(layout, run_id)
