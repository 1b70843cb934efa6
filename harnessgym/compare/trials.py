"""Running a comparison: plan a randomized trial order, give each trial a fresh copy of the template (harnessed
ones also get the artifacts), run it attempt-only through the library, and measure it.

A trial that raises or whose agent fails is recorded as invalid; it never stops the comparison. Each trial's
record is written the moment it ends, so an interrupted comparison keeps what it finished, and the report
(``status: interrupted``) is still written on the way out.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

import anyio

from harnessgym import store
from harnessgym.artifacts.registry import ActivationRecord
from harnessgym.compare.analysis import analyse
from harnessgym.compare.bundle import BundleCheck, apply_bundle_check, qualify_bundle
from harnessgym.compare.models import (
    GROUPS,
    CompareConfig,
    CompareReport,
    InvalidKind,
    OutputLayout,
    TrialKey,
    TrialRecord,
)
from harnessgym.compare.upstream import UpstreamIteration, fill_upstream
from harnessgym.config import resolve_runner
from harnessgym.errors import ConfigError, WorkspaceLockedError
from harnessgym.events import EventHandler
from harnessgym.evidence.scores import Measurement, reached
from harnessgym.evidence.verify import run_measurement
from harnessgym.records import IterationRecord, RunSummary, utcnow
from harnessgym.store.layout import HARNESS_DIR, Layout

__all__ = ["TrialHandler", "check_compare", "compare_async", "plan_order"]

TrialHandler = Callable[[TrialKey, int, int, TrialRecord | None], None]
"""Called with (slot, position, total, None) when a trial starts and (slot, position, total, record) when it
ends; ``position`` is 1-based in the run order."""


def plan_order(trials: int, seed: int) -> list[TrialKey]:
    """Blocks of one plain and one harnessed trial, each block in a seeded random order. Interleaving balances
    drift over time (API load, caches, a model update) between the groups; randomizing within blocks keeps
    the order from lining up with anything else periodic."""
    rng = random.Random(seed)
    order: list[TrialKey] = []
    for index in range(1, trials + 1):
        block = [TrialKey(group="plain", index=index), TrialKey(group="harnessed", index=index)]
        rng.shuffle(block)
        order += block
    return order


def _artifact_workspace(config: CompareConfig) -> Path | None:
    """The workspace holding the artifacts: ``artifact_source`` (a workspace or its .harnessgym), else the
    template itself when it carries a registry."""
    source = config.artifact_source
    if source is None:
        template = Layout(config.workspace_template)
        return template.workspace if template.registry.is_file() else None
    if not source.exists():
        raise ConfigError(f"{source} does not exist; pass a workspace or its {HARNESS_DIR} folder", "artifact_source")
    workspace = source.parent if source.name == HARNESS_DIR else source
    if not Layout(workspace).registry.is_file():
        raise ConfigError(f"{source} has no {HARNESS_DIR}/registry.json; pass a workspace where harnessgym built "
                          "artifacts", "artifact_source")  # fmt: skip
    return workspace


def _check(config: CompareConfig, out: OutputLayout, order: list[TrialKey]) -> Path | None:
    """The artifact workspace, once everything that would waste a whole comparison has been ruled out."""
    template = config.workspace_template
    if not template.is_dir():
        raise ConfigError(f"{template} is not a directory", "workspace_template")
    if out.root == template or template.is_relative_to(out.root):
        raise ConfigError(f"{out.root} would hold the template {template} itself; choose a folder outside it (one "
                          "inside the template is fine: it is left out of the copies)", "output_dir")  # fmt: skip
    source = _artifact_workspace(config)
    if config.require_active_harness:
        if source is None:
            raise ConfigError("the harnessed trials would get no artifacts: pass {artifact_source}, or "
                              "{require_active_harness=false} for a plain-against-plain (A/A) comparison",
                              "artifact_source")  # fmt: skip
        registry, _ = store.read_registry(Layout(source))
        if not any(a.kind == "mcp" and a.state != "quarantined" for a in registry.artifacts):
            states = ", ".join(sorted({f"{a.id} ({a.state})" for a in registry.artifacts})) or "none"
            raise ConfigError(
                f"no artifact of {source} is an MCP server that could give a session a tool, so every harnessed "
                f"trial would be invalid (a harnessed trial needs at least one working MCP tool; artifacts: "
                f"{states}); build one with a run, or pass {{require_active_harness=false}}",
                "artifact_source",
            )
    taken = [out.trial_dir(k.group, k.index) for k in order if out.trial_dir(k.group, k.index).exists()]
    if taken and not config.overwrite:
        names = ", ".join(str(p.relative_to(out.root)) for p in taken[:4]) + (" ..." if len(taken) > 4 else "")
        raise ConfigError(f"{out.root} already holds trials of an earlier comparison ({names}); pass "
                          "{overwrite=true} to replace them, or choose another {output_dir}", "output_dir")  # fmt: skip
    return source


def check_compare(config: CompareConfig) -> Path | None:
    """Everything :func:`compare_async` checks before its first trial (the template, the output folder, the
    artifacts, earlier trials); raises :class:`ConfigError` saying what to change. Returns the workspace the
    harnessed trials' artifacts come from. For callers that want a refusal before they start anything."""
    out = OutputLayout(config.output_dir)
    source = _check(config, out, plan_order(config.trials, config.seed))
    if store.lock_is_held(Layout(out.root)):
        raise ConfigError(_in_use(out, store.lock_holder(Layout(out.root))), "output_dir")
    return source


def _in_use(out: OutputLayout, holder: tuple[int, str] | None) -> str:
    who = f" (pid {holder[0]})" if holder is not None else ""
    return (f"{out.root} is in use by another comparison{who}; wait for it to finish, stop it, or choose another "
            "{output_dir}")  # fmt: skip


def _template_ignore(config: CompareConfig) -> Callable[[str, list[str]], set[str]]:
    output = config.output_dir

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = store.ignore_for_template(directory, names)
        return skipped | {n for n in names if Path(directory, n).absolute() == output}

    return ignore


def _copy_template(config: CompareConfig, dest: Path) -> None:
    """A fresh copy of the template without harness, VCS, agent config, caches or binaries (and without the
    output folder, should it sit inside the template)."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(config.workspace_template, dest, symlinks=True, ignore=_template_ignore(config))


def _measure(record: TrialRecord, summary: RunSummary, config: CompareConfig, check: BundleCheck) -> None:
    """Fill ``record`` from the finished run (and its post measurement, already in ``record.post``): verdicts,
    attempt durations, cost, harness use."""
    layout = Layout(record.workspace)
    run = layout.run(record.run_id)
    record.run_dir, record.run_status = summary.run_dir, summary.status
    post = record.post
    if post is not None and post.passed:
        record.post_score = post.score
    if config.evidence_command == "verify":
        record.solved = summary.solved and summary.evidence == "verified"
    else:
        record.solved = (post is not None and post.passed
                         and (config.stop_score is None or reached(post.score, config.stop_score,
                                                                   config.higher_is_better)))  # fmt: skip
    record.evidence = "verified" if record.solved else "none"
    record.best_score = summary.best_score
    record.cost_usd = summary.cost_usd
    durations: list[float] = []
    failures: list[str] = []
    for brief in summary.iterations:
        rec = store.read_model(brief.record_path, IterationRecord)
        attempt = rec.phases.get("attempt") if rec is not None else None
        if rec is None or attempt is None:
            continue
        record.iterations_completed += "verify" in rec.completed_phases
        durations.append(attempt.duration_seconds)
        for key, value in attempt.usage.items():
            record.tokens[key] = record.tokens.get(key, 0) + value
        if attempt.status in ("failed", "interrupted"):
            failures.append(f"attempt {rec.iteration} {attempt.status}: {attempt.message or attempt.error_kind}")
        if rec.verdict is not None:
            record.verify_status, record.score = rec.verdict.status, rec.verdict.score
        activation = store.read_model(run.activation(rec.iteration), ActivationRecord)
        row = UpstreamIteration(iteration=rec.iteration, status=rec.status, solved=rec.solved,
                                attempt_status=attempt.status, attempt_duration_seconds=attempt.duration_seconds,
                                score=rec.score)  # fmt: skip
        if activation is not None:
            active = [s.artifact_id for s in activation.skills] + [m.artifact_id for m in activation.mcp_servers]
            active += activation.tools
            if len(active) > record.active_artifact_count:
                record.active_artifact_count, record.active_artifacts = len(active), sorted(active)
            row.active_mcp_count = len(activation.mcp_servers)
            row.active_tool_count = sum(len(check.tools.get(m.artifact_id, [])) for m in activation.mcp_servers)
            record.active_mcp_count = max(record.active_mcp_count, row.active_mcp_count)
            record.active_tool_count = max(record.active_tool_count, row.active_tool_count)
        record.iterations.append(row)
    if durations:
        record.attempt_duration_seconds, record.cumulative_attempt_duration_seconds = durations[-1], sum(durations)
    record.mcp_call_count, record.mcp_tools_called = _mcp_calls(record.workspace)
    _judge(record, summary, failures, config)


def _judge(record: TrialRecord, summary: RunSummary, failures: list[str], config: CompareConfig) -> None:
    """Set the trial aside when it does not measure what the comparison is about."""
    if summary.status in ("error", "interrupted"):
        _invalid(record, "run_error", f"the run ended with status {summary.status}: {summary.message}".rstrip(": "))
    elif record.attempt_duration_seconds is None:
        _invalid(record, "no_attempt", "no attempt was recorded")
    elif failures:
        # A timeout is an outcome (the agent did not solve it in time); a failed CLI is not.
        _invalid(record, "runner_failure", "; ".join(failures))
    elif record.group == "harnessed" and config.require_active_harness and record.active_tool_count == 0:
        _invalid(record, "no_active_harness", "no working MCP tool was given to the session "
                 f"({record.active_artifact_count} artifact(s) active, {record.active_mcp_count} MCP server(s)); "
                 "pass --no-require-active-harness to count such trials")  # fmt: skip
    elif record.group == "harnessed" and config.require_harness_tool_use and record.mcp_call_count == 0:
        _invalid(record, "no_harness_tool_use", "the agent made no MCP tool call (require_harness_tool_use is on)")


async def _post(config: CompareConfig, workspace: Path, trial_dir: Path) -> Measurement:
    """The post command on the trial's final workspace, run exactly like a post-attempt command of ``run``
    (process group, timeout that kills the tree); its output is kept beside ``trial.json``."""
    assert config.post_command is not None
    return await run_measurement(
        config.post_command, "post_attempt", workspace=workspace, timeout=config.post_timeout,
        stdout_path=trial_dir / "post.stdout.txt", stderr_path=trial_dir / "post.stderr.txt",
        score_key=config.post_key, pass_env=config.verify_pass_env,
    )  # fmt: skip


def _mcp_calls(workspace: Path) -> tuple[int, list[str]]:
    """MCP calls recorded in the trial's workspace (its only run) and the tools called."""
    try:
        from mcp_host import summarize_calls
    except ImportError:
        return 0, []
    summary = summarize_calls(workspace)
    return summary.count, sorted(summary.by_tool)


def _invalid(record: TrialRecord, kind: InvalidKind, reason: str) -> None:
    record.valid = False
    record.invalid_kind = kind
    record.invalid_reason = reason


async def _run_trial(
    config: CompareConfig,
    key: TrialKey,
    position: int,
    source: Path | None,
    out: OutputLayout,
    on_event: EventHandler | None,
    check: BundleCheck,
) -> TrialRecord:
    from harnessgym.jobs.api import run_async

    workspace = out.workspace(key.group, key.index)
    record = TrialRecord(group=key.group, index=key.index, position=position, workspace=workspace,
                         run_id=f"compare-{key.group}-{key.index}")  # fmt: skip
    try:
        await anyio.to_thread.run_sync(_copy_template, config, workspace)
        if key.group == "harnessed" and source is not None:
            copied, problems = await anyio.to_thread.run_sync(store.copy_usable_artifacts, Layout(source), workspace)
            problems += apply_bundle_check(check, workspace)
            record.copied_artifacts, record.problems = [e.id for e in copied], problems
        summary = await run_async(config.run_config(workspace, record.run_id), on_event)
        if config.post_command is not None and summary.status not in ("error", "interrupted"):
            record.post = await _post(config, workspace, out.trial_dir(key.group, key.index))
    except Exception as exc:  # the per-trial guard: one broken trial must not sink the whole comparison
        _invalid(record, "runner_error", f"{type(exc).__name__}: {exc}")
    else:
        _measure(record, summary, config, check)
    record.finished_at = utcnow()
    fill_upstream(record, config)
    return record


def _report(
    config: CompareConfig,
    order: list[TrialKey],
    trials: list[TrialRecord],
    source: Path | None,
    status: Literal["completed", "interrupted"],
    created: datetime,
    check: BundleCheck | None = None,
) -> CompareReport:
    plain, harnessed, comparison, verdict = analyse(
        trials, alpha=config.alpha, higher_is_better=config.higher_is_better, seed=config.seed,
        resamples=config.bootstrap_resamples, post_primary=config.post_command is not None,
    )  # fmt: skip
    return CompareReport(
        status=status,
        created_at=created,
        config=config,
        artifact_workspace=source,
        workspace_template=config.workspace_template,
        artifact_source=config.artifact_source,
        artifact_qualification=check.report_path if check is not None else None,
        order=order,
        trials=trials,
        plain=plain,
        harnessed=harnessed,
        comparison=comparison,
        verdict=verdict,
    )


async def compare_async(
    config: CompareConfig, on_trial: TrialHandler | None = None, on_event: EventHandler | None = None
) -> CompareReport:
    """Run every trial in a randomized order and return the report (also written to the output folder).

    Cancelling stops the running trial (its agent tree is killed), writes an ``interrupted`` report of the
    finished trials, and propagates. ``runner="auto"`` is resolved first; the report records the agent used."""
    runner, _ = resolve_runner(config.runner, config.runner_options)
    if runner != config.runner:
        config = config.model_copy(update={"runner": runner})
    out = OutputLayout(config.output_dir)
    order = plan_order(config.trials, config.seed)
    source = _check(config, out, order)
    # One comparison per output folder at a time (the CLI and a serve client could otherwise write the same
    # trials); the OS releases the lock when its holder dies.
    try:
        lock = store.WorkspaceLock.acquire(Layout(out.root), f"compare-seed-{config.seed}")
    except WorkspaceLockedError:
        raise ConfigError(_in_use(out, store.lock_holder(Layout(out.root))), "output_dir") from None
    try:
        return await _compare_locked(config, out, order, source, on_trial, on_event)
    finally:
        lock.release()


async def _compare_locked(
    config: CompareConfig,
    out: OutputLayout,
    order: list[TrialKey],
    source: Path | None,
    on_trial: TrialHandler | None,
    on_event: EventHandler | None,
) -> CompareReport:
    if config.overwrite:
        for group in GROUPS:
            group_dir = out.group_dir(group)
            if group_dir.exists():
                shutil.rmtree(group_dir)
        out.report.unlink(missing_ok=True)
    out.root.mkdir(parents=True, exist_ok=True)
    created = utcnow()
    trials: list[TrialRecord] = []
    check = BundleCheck()
    if source is not None:  # checked once, before any trial gets it
        check = await qualify_bundle(source, config.workspace_template, out.root / "artifact_qualification",
                                     _template_ignore(config))  # fmt: skip
        if config.require_active_harness and check.tool_count == 0:
            failed = "; ".join(f"{aid}: {(why.splitlines() or ['failed'])[0]}" for aid, why in check.failed.items())
            raise ConfigError(
                f"no MCP server of {source} passed qualification with a tool ({failed or 'none listed a tool'}), so "
                "every harnessed trial would be invalid; fix the artifacts (the report is in "
                f"{check.report_path}), or pass {{require_active_harness=false}}",
                "artifact_source",
            )
    try:
        for position, key in enumerate(order, start=1):
            if on_trial is not None:
                on_trial(key, position, len(order), None)
            record = await _run_trial(config, key, position, source, out, on_event, check)
            store.write_model(out.trial_record(key.group, key.index), record)
            trials.append(record)
            if on_trial is not None:
                on_trial(key, position, len(order), record)
    except anyio.get_cancelled_exc_class():
        # Synchronous on purpose: no checkpoint, so the pending cancellation cannot cut the write short.
        store.write_model(out.report, _report(config, order, trials, source, "interrupted", created, check))
        raise
    report = _report(config, order, trials, source, "completed", created, check)
    store.write_model(out.report, report)
    return report
