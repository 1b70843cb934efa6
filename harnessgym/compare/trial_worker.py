"""One trial, from its :class:`~harnessgym.compare.executors.TrialJob` and an empty folder to its record.

``python -I -m harnessgym.compare.trial_worker JOB.json TRIAL_DIR`` runs it from a fresh interpreter (exit 0
once ``TRIAL_DIR/trial.json`` is written, whatever the trial's outcome); :func:`run_trial_job` in-process.

The trial's folder holds everything: ``workspace/`` (a fresh copy of the template, plus the bundle's artifacts
for harnessed arms), ``home/`` (the agent's own HOME, ``CLAUDE_CONFIG_DIR`` and ``CODEX_HOME``, seeded from the
executing user's configuration files so parallel sessions never share state), the post command's output and,
last, ``trial.json``. A trial that raises or whose agent fails is recorded, never raised; a failure of the
infrastructure rather than of the agent at the task is ``infra_error``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import anyio

from harnessgym import store
from harnessgym.artifacts.qualification import trust_without_qualification
from harnessgym.artifacts.registry import ActivationRecord, ArtifactEntry
from harnessgym.compare.bundle import apply_bundle_check
from harnessgym.compare.executors import RECORD_NAME, TrialJob, run_id_of
from harnessgym.compare.models import InvalidKind, TrialRecord
from harnessgym.compare.upstream import UpstreamIteration
from harnessgym.config import RunConfig
from harnessgym.events import EventHandler
from harnessgym.evidence.scores import Measurement, reached
from harnessgym.evidence.verify import run_measurement
from harnessgym.records import IterationRecord, RunSummary, utcnow
from harnessgym.store.layout import Layout
from harnessgym.store.tree import copy_tree
from runners import PhaseOutcome

__all__ = ["agent_home_env", "main", "run_trial_job", "template_ignore"]

INFRA_ERROR_KINDS = frozenset({"not_started", "api_error", "interrupted"})
"""Attempt failures of the infrastructure: the CLI could not start, could not reach its model, or was killed
from outside. A failure after the agent began working (``turn_failed``, a budget) is the agent's."""
_SEED_MAX_BYTES = 1 << 20
_CLAUDE_FILES = ("settings.json", ".credentials.json", "CLAUDE.md", ".claude.json")
_CODEX_FILES = ("config.toml", "auth.json", "AGENTS.md")


def _copy_small(source: Path, dest: Path) -> None:
    """Copy a regular file of at most 1 MiB (a user's config), never a symlink, FIFO or history."""
    try:
        if source.is_symlink() or not source.is_file() or source.stat().st_size > _SEED_MAX_BYTES:
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        os.chmod(dest, 0o600)
    except OSError:
        return  # a config the agent cannot get is the agent's to complain about, not a reason to stop


def agent_home_env(home: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """Make ``home`` the agent's own HOME, with ``.claude`` and ``.codex`` below it, seeded with the
    configuration files (settings, credentials, Codex config) of the homes ``environ`` names; returns the
    variables that point the CLIs at it. The user's homes are only read."""
    user_home = Path(environ.get("HOME", str(Path.home())))
    claude_dir = Path(environ["CLAUDE_CONFIG_DIR"]) if environ.get("CLAUDE_CONFIG_DIR") else user_home / ".claude"
    codex_dir = Path(environ["CODEX_HOME"]) if environ.get("CODEX_HOME") else user_home / ".codex"
    new_claude, new_codex = home / ".claude", home / ".codex"
    for d in (home, new_claude, new_codex):
        d.mkdir(parents=True, exist_ok=True)
    for name in _CLAUDE_FILES:
        _copy_small(claude_dir / name, new_claude / name)
    for name in _CODEX_FILES:
        _copy_small(codex_dir / name, new_codex / name)
    # Claude keeps its global state in ~/.claude.json, or in $CLAUDE_CONFIG_DIR/.claude.json when that is set.
    for source in (user_home / ".claude.json", user_home / ".gitconfig"):
        _copy_small(source, home / source.name)
    if not (new_claude / ".claude.json").exists():
        _copy_small(user_home / ".claude.json", new_claude / ".claude.json")
    return {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(new_claude), "CODEX_HOME": str(new_codex)}


def template_ignore(skip: Path) -> Callable[[str, list[str]], set[str]]:
    """What a copy of a template leaves out: harness, VCS, agent config, caches, binaries, and ``skip`` (the
    output folder, should it sit inside the template)."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = store.ignore_for_template(directory, names)
        return skipped | {n for n in names if Path(directory, n).absolute() == skip}

    return ignore


def _copy_template(template: Path, dest: Path, trial_dir: Path) -> None:
    """A fresh copy of the template without harness, VCS, agent config, caches or binaries, and without the
    folder the trial itself lives in (the output folder may sit inside the template)."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = store.ignore_for_template(directory, names)
        return skipped | {n for n in names if trial_dir.is_relative_to(Path(directory, n).absolute())}

    if dest.exists():
        shutil.rmtree(dest)
    copy_tree(template, dest, skip=ignore)


def _copy_bundle(bundle: Path, workspace: Path, exclude: tuple[str, ...]) -> tuple[list[ArtifactEntry], list[str]]:
    return store.copy_usable_artifacts(Layout(bundle), workspace, exclude=exclude)


def _run_config(job: TrialJob, workspace: Path, options_home: Path, environ: Mapping[str, str]) -> RunConfig:
    spec = job.spec
    options = job.runner_options
    env = {**options.agent_env, **agent_home_env(options_home, {**environ, **options.agent_env})}
    options = options.model_copy(update={"agent_env": env, "fake_home": options_home / ".fake"})
    task_path = workspace / spec.task_file if spec.task_file is not None else None
    return RunConfig(
        workspace=workspace, task_text=spec.task_text, task_path=task_path, run_id=run_id_of(job),
        iterations=spec.iterations, runner=job.runner, runner_options=options,
        attempt_timeout=spec.attempt_timeout, attempt_timeouts=spec.attempt_timeouts,
        verify_command=spec.verify_command, verify_timeout=spec.verify_timeout, score_key=spec.score_key,
        verify_pass_env=job.verify_pass_env, stop_score=spec.stop_score, higher_is_better=spec.higher_is_better,
        task_state=spec.task_state, qualify_artifacts=False, attempt_only=True,
        goal=job.goal, goal_token_budget=job.goal_token_budget, watch=job.watch,
    )  # fmt: skip


def _infra_failure(attempt: PhaseOutcome) -> bool:
    """Whether a failed attempt failed for the infrastructure's reasons, not the agent's."""
    if attempt.error_kind in INFRA_ERROR_KINDS:
        return True
    # A CLI that crashed or timed out before it reported a session never got to work on the task.
    return attempt.status in ("failed", "timeout") and attempt.session_id is None


def _measure(record: TrialRecord, summary: RunSummary, job: TrialJob) -> None:
    """Fill ``record`` from the finished run (and its post measurement, already in ``record.post``)."""
    spec = job.spec
    run = Layout(record.workspace).run(record.run_id)
    record.run_dir, record.run_status = summary.run_dir, summary.status
    post = record.post
    if post is not None and post.passed:
        record.post_score = post.score
    if spec.evidence_command == "verify":
        record.solved = summary.solved and summary.evidence == "verified"
    else:
        record.solved = (post is not None and post.passed
                         and (spec.stop_score is None or reached(post.score, spec.stop_score,
                                                                 spec.higher_is_better)))  # fmt: skip
    record.evidence = "verified" if record.solved else "none"
    record.best_score, record.cost_usd = summary.best_score, summary.cost_usd
    durations: list[float] = []
    failures: list[str] = []
    infra: list[str] = []
    undelivered: list[str] = []
    for brief in summary.iterations:
        rec = store.read_model(brief.record_path, IterationRecord)
        attempt = rec.phases.get("attempt") if rec is not None else None
        if rec is None or attempt is None:
            continue
        record.iterations_completed += "verify" in rec.completed_phases
        durations.append(attempt.duration_seconds)
        for key, value in attempt.usage.items():
            record.tokens[key] = record.tokens.get(key, 0) + value
        if rec.mcp_delivered is False:
            why = attempt.mcp_delivery.message if attempt.mcp_delivery else "no delivery record"
            undelivered.append(f"attempt {rec.iteration}: {why}")
        if attempt.status in ("failed", "interrupted") or (attempt.status == "timeout" and _infra_failure(attempt)):
            line = f"attempt {rec.iteration} {attempt.status}: {attempt.message or attempt.error_kind}"
            (infra if _infra_failure(attempt) else failures).append(line)
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
            tools = job.bundle_verdicts.tools if job.bundle_verdicts is not None else {}
            row.active_mcp_count = len(activation.mcp_servers)
            row.active_tool_count = sum(len(tools.get(m.artifact_id, [])) for m in activation.mcp_servers)
            record.active_mcp_count = max(record.active_mcp_count, row.active_mcp_count)
            record.active_tool_count = max(record.active_tool_count, row.active_tool_count)
        record.iterations.append(row)
    if durations:
        record.attempt_duration_seconds, record.cumulative_attempt_duration_seconds = durations[-1], sum(durations)
    record.mcp_call_count, record.mcp_tools_called = _mcp_calls(record.workspace)
    _judge(record, summary, failures, infra, job, undelivered)


def _judge(
    record: TrialRecord,
    summary: RunSummary,
    failures: list[str],
    infra: list[str],
    job: TrialJob,
    undelivered: list[str],
) -> None:
    """Set the trial aside when it does not measure what the comparison is about."""
    if infra:
        _invalid(record, "infra_error", "; ".join(infra))
    elif summary.status in ("error", "interrupted"):
        _invalid(record, "run_error", f"the run ended with status {summary.status}: {summary.message}".rstrip(": "))
    elif record.attempt_duration_seconds is None:
        _invalid(record, "no_attempt", "no attempt was recorded")
    elif failures:
        # A timeout is an outcome (the agent did not solve it in time); a failed CLI is not.
        _invalid(record, "runner_failure", "; ".join(failures))
    elif job.group == "harnessed" and undelivered:
        _invalid(record, "harness_not_delivered", "the session did not get the host's tools: " + "; ".join(undelivered))
    elif job.group == "harnessed" and job.require_active_harness and record.active_tool_count == 0:
        if not job.exclude_artifacts:  # a leave-one-out arm may lose its only tool: that is what it measures
            _invalid(record, "no_active_harness", "no working MCP tool was given to the session "
                     f"({record.active_artifact_count} artifact(s) active, {record.active_mcp_count} MCP "
                     "server(s)); pass --no-require-active-harness to count such trials")  # fmt: skip
    elif job.group == "harnessed" and job.require_harness_tool_use and record.mcp_call_count == 0:
        _invalid(record, "no_harness_tool_use", "the agent made no MCP tool call (require_harness_tool_use is on)")


def _invalid(record: TrialRecord, kind: InvalidKind, reason: str) -> None:
    record.valid, record.invalid_kind, record.invalid_reason = False, kind, reason


def _mcp_calls(workspace: Path) -> tuple[int, list[str]]:
    """MCP calls recorded in the trial's workspace (its only run) and the tools called."""
    try:
        from mcp_host import summarize_calls
    except ImportError:
        return 0, []
    summary = summarize_calls(workspace)
    return summary.count, sorted(summary.by_tool)


async def _post(job: TrialJob, workspace: Path, trial_dir: Path) -> Measurement:
    """The post command on the final workspace, run like a post-attempt command of ``run``."""
    spec = job.spec
    assert spec.post_command is not None
    return await run_measurement(
        spec.post_command, "post_attempt", workspace=workspace, timeout=spec.post_timeout,
        stdout_path=trial_dir / "post.stdout.txt", stderr_path=trial_dir / "post.stderr.txt",
        score_key=spec.post_key, pass_env=job.verify_pass_env,
    )  # fmt: skip


async def run_trial_job(job: TrialJob, trial_dir: Path, on_event: EventHandler | None = None) -> TrialRecord:
    """Run one trial in ``trial_dir`` and return its record, written last to ``trial_dir/trial.json``.
    Cancellation kills the agent and propagates (no record: the trial is re-run when the comparison resumes)."""
    from harnessgym.jobs.api import run_async

    trial_dir = trial_dir.absolute()
    workspace, home = trial_dir / "workspace", trial_dir / "home"
    record = TrialRecord(
        group=job.group, index=job.index, trial_id=job.trial_id, task=job.task, arm=job.arm, runner=job.runner_label,
        excluded_artifacts=list(job.exclude_artifacts), position=job.position, workspace=workspace,
        run_id=run_id_of(job), agent_home=home,
    )  # fmt: skip
    try:
        trial_dir.mkdir(parents=True, exist_ok=True)
        await anyio.to_thread.run_sync(_copy_template, job.spec.workspace_template, workspace, trial_dir)
        if job.group == "harnessed" and job.bundle_dir is not None:
            copied, problems = await anyio.to_thread.run_sync(
                _copy_bundle, job.bundle_dir, workspace, job.exclude_artifacts
            )
            if job.bundle_verdicts is not None:
                problems += apply_bundle_check(job.bundle_verdicts.check(), workspace)
            record.copied_artifacts, record.problems = [e.id for e in copied], problems
            # The user named this source for the harnessed trials: its artifacts count as passed as copied.
            trust_without_qualification(Layout(workspace), copied, "given as the comparison's artifact source")
        config = _run_config(job, workspace, home, os.environ)
        summary = await run_async(config, on_event)
        if job.spec.post_command is not None and summary.status not in ("error", "interrupted"):
            record.post = await _post(job, workspace, trial_dir)
    except Exception as exc:  # the per-trial guard: harnessgym could not run this trial; the others go on
        _invalid(record, "infra_error", f"{type(exc).__name__}: {exc}")
    else:
        _measure(record, summary, job)
    record.finished_at = utcnow()
    store.write_model(trial_dir / RECORD_NAME, record)
    return record


def main(argv: list[str] | None = None) -> int:
    """``python -I -m harnessgym.compare.trial_worker JOB.json TRIAL_DIR``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -I -m harnessgym.compare.trial_worker JOB.json TRIAL_DIR", file=sys.stderr)
        return 2
    job = TrialJob.model_validate_json(Path(args[0]).read_text(encoding="utf-8"))
    from harnessgym.compare.trial_events import EVENTS_NAME, append_event

    trial_dir = Path(args[1])  # made by run_trial_job before the run's first event
    # The run's events, for whoever started this worker to show while it runs (display only)
    anyio.run(run_trial_job, job, trial_dir, append_event(trial_dir.absolute() / EVENTS_NAME))
    return 0


if __name__ == "__main__":
    sys.exit(main())
