"""Running a comparison: plan a seeded, interleaved trial order over tasks, arms and runners, refuse what would
waste it, and run the trials ``--jobs`` at a time through an executor (:mod:`harnessgym.compare.executors`).

Resumable: ``compare_plan.json`` records what is compared; a re-run on the same folder with the same
configuration runs only the trials without a final ``trial.json`` (a folder without one is a trial that was cut
short: its leftover processes are killed and it runs again from scratch); a different configuration is refused.
A trial whose infrastructure failed is retried up to ``--max-retries`` times, its earlier tries kept beside it.
The report (``status: interrupted`` when cancelled) is written on the way out.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict

from harnessgym import store
from harnessgym.compare.analysis import analyse
from harnessgym.compare.bundle import qualify_bundle
from harnessgym.compare.executors import BundleVerdicts, Executor, TrialJob, make_executor
from harnessgym.compare.layout import arm_dir
from harnessgym.compare.models import (
    RESUME_INDEPENDENT,
    CompareConfig,
    CompareReport,
    OutputLayout,
    TrialKey,
    TrialRecord,
)
from harnessgym.compare.spec import TaskSpec
from harnessgym.compare.suite_analysis import analyse_suite, suite_verdict
from harnessgym.compare.trial_worker import template_ignore
from harnessgym.config import resolve_runner
from harnessgym.errors import ConfigError, WorkspaceLockedError
from harnessgym.events import EventHandler
from harnessgym.records import utcnow
from harnessgym.store.layout import HARNESS_DIR, Layout

__all__ = ["ComparePlan", "TrialHandler", "check_compare", "compare_async", "plan_order", "planned_trials"]

TrialHandler = Callable[[TrialKey, int, int, TrialRecord | None], None]
"""Called with (slot, position, total, None) when a trial starts and (slot, position, total, record) when it
ends; ``position`` is 1-based in the run order."""


class ComparePlan(BaseModel):
    """``<output-dir>/compare_plan.json``: what is compared, so a resumed comparison can be checked against it."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    identity: dict[str, Any]
    """The configuration and the resolved tasks, less what only says how trials run (jobs, budget ...)."""
    order: list[TrialKey]
    created_at: datetime


class _Setup(BaseModel):
    """Everything decided before the first trial."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    specs: dict[str, TaskSpec]
    """By the task label the records carry ("" for a one-task comparison)."""
    bundles: dict[str, Path | None]
    arms: dict[str, tuple[str, ...]]
    runners: dict[str, str]
    """Record label -> runner name."""
    order: list[TrialKey]


def plan_order(trials: int, seed: int) -> list[TrialKey]:
    """A one-task order: blocks of one plain and one harnessed trial, each in a seeded random order."""
    return _plan({"": 1}, {"": ("plain", "harnessed")}, [""], trials_of={"": trials}, seed=seed)


def _plan(
    tasks: dict[str, int], arms: dict[str, tuple[str, ...]], runners: list[str], *, trials_of: dict[str, int], seed: int
) -> list[TrialKey]:
    """Blocks of one trial per arm and runner, each block in a seeded random order, the tasks' blocks in a seeded
    random order per round. Interleaving balances drift over time (API load, caches, a model update) between
    the arms; randomizing within blocks keeps the order from lining up with anything else periodic."""
    rng = random.Random(seed)
    order: list[TrialKey] = []
    names = list(tasks)
    for index in range(1, max(trials_of.values()) + 1):
        if len(names) > 1:
            rng.shuffle(names)
        for task in names:
            if trials_of[task] < index:
                continue
            block = [
                TrialKey(
                    group="plain" if arm == "plain" else "harnessed",
                    index=index,
                    task=task,
                    arm="" if arm in ("plain", "harnessed") else arm,
                    runner=runner,
                )
                for runner in runners
                for arm in arms[task]
            ]
            rng.shuffle(block)
            order += block
    return order


def _artifact_workspace(spec: TaskSpec) -> Path | None:
    """The workspace holding the artifacts: the task's artifact source, else the template when it has a registry."""
    source = spec.artifact_source
    if source is None:
        template = Layout(spec.workspace_template)
        return template.workspace if template.registry.is_file() else None
    if not source.exists():
        raise ConfigError(f"{source} does not exist; pass a workspace or its {HARNESS_DIR} folder", "artifact_source")
    workspace = source.parent if source.name == HARNESS_DIR else source
    if not Layout(workspace).registry.is_file():
        raise ConfigError(f"{source} has no {HARNESS_DIR}/registry.json; pass a workspace where harnessgym built "
                          "artifacts", "artifact_source")  # fmt: skip
    return workspace


def _usable(source: Path | None) -> tuple[list[str], bool]:
    """The source's non-quarantined artifact ids (what harnessed trials get), and whether one is an MCP server
    (a harnessed trial needs a working MCP tool)."""
    if source is None:
        return [], False
    registry, _ = store.read_registry(Layout(source))
    kept = [a for a in registry.artifacts if a.state != "quarantined"]
    return [a.id for a in kept], any(a.kind == "mcp" for a in kept)


def _setup(config: CompareConfig) -> _Setup:
    """The tasks, bundles, arms and order, once everything that would waste a comparison is ruled out."""
    out = config.output_dir
    specs = {(s.name if config.suite is not None else ""): s for s in config.tasks()}
    bundles: dict[str, Path | None] = {}
    arms: dict[str, tuple[str, ...]] = {}
    for label, spec in specs.items():
        template, who = spec.workspace_template, f"task {spec.name!r}: " if label else ""
        if not template.is_dir():
            raise ConfigError(f"{who}{template} is not a directory", "workspace_template")
        if out == template or template.is_relative_to(out):
            raise ConfigError(f"{who}{out} would hold the template {template} itself; choose a folder outside it "
                              "(one inside the template is fine: it is left out of the copies)",
                              "output_dir")  # fmt: skip
        source = bundles[label] = _artifact_workspace(spec)
        active, has_mcp = _usable(source)
        if config.require_active_harness and "harnessed" in config.arms:
            if source is None:
                raise ConfigError(f"{who}the harnessed trials would get no artifacts: pass {{artifact_source}}, or "
                                  "{require_active_harness=false} for a plain-against-plain (A/A) comparison",
                                  "artifact_source")  # fmt: skip
            if not has_mcp:
                raise ConfigError(f"{who}no artifact of {source} is an MCP server that could give a session a tool, "
                                  "so every harnessed trial would be invalid (a harnessed trial needs at least one "
                                  "working MCP tool); build one with a run, or pass {require_active_harness=false}",
                                  "artifact_source")  # fmt: skip
        base = tuple(a for a in config.arms if a != "ablate")
        arms[label] = base + (tuple(f"minus:{a}" for a in active) if "ablate" in config.arms else ())
    names = config.runner_names
    runners = {(n if len(names) > 1 else ""): n for n in names}
    order = _plan({t: 1 for t in specs}, arms, list(runners), trials_of={t: s.trials for t, s in specs.items()},
                  seed=config.seed)  # fmt: skip
    return _Setup(specs=specs, bundles=bundles, arms=arms, runners=runners, order=order)


def _identity(config: CompareConfig, setup: _Setup) -> dict[str, Any]:
    fields = config.model_dump(mode="json", exclude=set(RESUME_INDEPENDENT))
    tasks = {label: spec.model_dump(mode="json") for label, spec in setup.specs.items()}
    return {"config": fields, "tasks": tasks, "bundles": {t: str(b) for t, b in setup.bundles.items()},
            "arms": {t: list(a) for t, a in setup.arms.items()}}  # fmt: skip


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    found = [k for k in sorted(set(old.get("config", {})) | set(new["config"]))
             if old.get("config", {}).get(k) != new["config"].get(k)]  # fmt: skip
    old_tasks, new_tasks = old.get("tasks", {}), new["tasks"]
    for task in sorted(set(old_tasks) | set(new_tasks)):
        a, b = old_tasks.get(task), new_tasks.get(task)
        if a is None or b is None:
            found.append(f"task {task!r} {'added' if a is None else 'removed'}")
        else:
            found += [f"task {task or b.get('name')!r} {k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    found += [k for k in ("bundles", "arms") if old.get(k) != new.get(k)]
    return found


def _check(config: CompareConfig, out: OutputLayout) -> tuple[_Setup, dict[str, Any]]:
    setup = _setup(config)
    identity = _identity(config, setup)
    if config.overwrite:
        return setup, identity
    plan = store.read_model(out.plan, ComparePlan)
    if plan is not None:
        changed = _differences(plan.identity, identity)
        if changed:
            raise ConfigError(f"{out.root} holds a comparison with another configuration (it differs in: "
                              f"{', '.join(changed[:8])}); run the same command to resume it, pass "
                              "{overwrite=true} to replace it, or choose another {output_dir}",
                              "output_dir")  # fmt: skip
        return setup, identity
    taken = [out.trial_dir_of(k) for k in setup.order if out.trial_dir_of(k).exists()]
    if taken or out.plan.exists():
        names = ", ".join(str(p.relative_to(out.root)) for p in taken[:4]) + (" ..." if len(taken) > 4 else "")
        raise ConfigError(f"{out.root} already holds trials of an earlier comparison ({names or out.plan.name}); "
                          "pass {overwrite=true} to replace them, or choose another {output_dir}",
                          "output_dir")  # fmt: skip
    return setup, identity


def check_compare(config: CompareConfig) -> Path | None:
    """Everything :func:`compare_async` checks before its first trial (the suite, the templates, the output
    folder, the artifacts, an earlier comparison there); raises :class:`ConfigError` saying what to change.
    Returns the first task's artifact workspace. For callers that want a refusal before they start anything."""
    out = OutputLayout(config.output_dir)
    setup, _ = _check(config, out)
    if store.lock_is_held(Layout(out.root)):
        raise ConfigError(_in_use(out, store.lock_holder(Layout(out.root))), "output_dir")
    return next(iter(setup.bundles.values()))


def planned_trials(config: CompareConfig) -> list[TrialKey]:
    """The trials ``config`` plans, in order (the suite and the bundles are read; nothing is checked or run)."""
    return _setup(config).order


def _in_use(out: OutputLayout, holder: tuple[int, str] | None) -> str:
    who = f" (pid {holder[0]})" if holder is not None else ""
    return (f"{out.root} is in use by another comparison{who}; wait for it to finish, stop it, or choose another "
            "{output_dir}")  # fmt: skip


def _job(
    config: CompareConfig, setup: _Setup, key: TrialKey, position: int, checks: dict[str, BundleVerdicts]
) -> TrialJob:
    arm = key.arm_name
    return TrialJob(
        bundle_verdicts=checks.get(key.task) if key.group == "harnessed" else None,
        trial_id=key.trial_id, spec=setup.specs[key.task], group=key.group, arm=key.arm, task=key.task,
        runner=setup.runners[key.runner], runner_label=key.runner, runner_options=config.runner_options,
        index=key.index, position=position, seed=config.seed,
        bundle_dir=setup.bundles[key.task] if key.group == "harnessed" else None,
        exclude_artifacts=(arm.removeprefix("minus:"),) if arm.startswith("minus:") else (),
        verify_pass_env=config.verify_pass_env, require_active_harness=config.require_active_harness,
        require_harness_tool_use=config.require_harness_tool_use,
        goal=config.goal, goal_token_budget=config.goal_token_budget, watch=config.watch,
    )  # fmt: skip


def _report(
    config: CompareConfig, setup: _Setup, records: dict[str, TrialRecord], status: str, created: datetime,
    not_run: list[TrialKey], checks: dict[str, BundleVerdicts],
) -> CompareReport:  # fmt: skip
    trials = sorted(records.values(), key=lambda r: r.position)
    main_runner = next(iter(setup.runners))
    two = [t for t in trials if t.arm in ("", "plain", "harnessed") and t.runner == main_runner]
    spec = next(iter(setup.specs.values()))
    plain, harnessed, comparison, verdict = analyse(
        two, alpha=config.alpha, higher_is_better=spec.higher_is_better, seed=config.seed,
        resamples=config.bootstrap_resamples, post_primary=spec.post_command is not None,
    )  # fmt: skip
    suite = None
    arms = list(dict.fromkeys(a for task_arms in setup.arms.values() for a in task_arms))
    if config.suite is not None or len(setup.runners) > 1 or any(a.startswith("minus:") for a in arms):
        suite = analyse_suite(trials, setup.specs, list(setup.runners), arms, alpha=config.alpha, seed=config.seed,
                              resamples=config.bootstrap_resamples)  # fmt: skip
    if config.suite is not None and suite is not None:
        verdict = suite_verdict(suite, config.alpha)
        comparison = type(comparison)()
    costs = [t.cost_usd for t in trials if t.cost_usd is not None]
    return CompareReport(
        status=status, created_at=created, config=config, artifact_workspace=next(iter(setup.bundles.values())),  # type: ignore[arg-type]
        workspace_template=spec.workspace_template, artifact_source=spec.artifact_source,
        artifact_qualification=next((c.report_path for c in checks.values() if c.report_path), None),
        order=setup.order, trials=trials, plain=plain, harnessed=harnessed, comparison=comparison, verdict=verdict,
        tasks=list(setup.specs.values()), suite=suite, not_run=not_run, spent_usd=sum(costs) if costs else None,
    )  # fmt: skip


async def compare_async(
    config: CompareConfig, on_trial: TrialHandler | None = None, on_event: EventHandler | None = None
) -> CompareReport:
    """Run every missing trial in the planned order, ``config.jobs`` at a time, and return the report (also
    written to the output folder). Cancelling stops the running trials (their agents are killed), writes an
    ``interrupted`` report of the finished trials, and propagates."""
    from harnessgym.compare.scheduler import run_trials

    config = _resolved(config)
    out = OutputLayout(config.output_dir)
    setup, identity = _check(config, out)
    executor: Executor = make_executor(
        config.executor, ray_address=config.ray_address, ray_cpus_per_trial=config.ray_cpus_per_trial
    )
    await executor.open()
    # One comparison per output folder at a time (the CLI and a serve client could otherwise write the same
    # trials); the OS releases the lock when its holder dies.
    try:
        lock = store.WorkspaceLock.acquire(Layout(out.root), f"compare-seed-{config.seed}")
    except WorkspaceLockedError:
        await executor.aclose()
        raise ConfigError(_in_use(out, store.lock_holder(Layout(out.root))), "output_dir") from None
    try:
        if config.overwrite:
            _clear(out, setup)
        out.root.mkdir(parents=True, exist_ok=True)
        checks = await _qualify_bundles(config, setup, out)
        plan = store.read_model(out.plan, ComparePlan)
        if plan is None:
            plan = ComparePlan(identity=identity, order=setup.order, created_at=utcnow())
            store.write_model(out.plan, plan)
        records: dict[str, TrialRecord] = {}
        not_run: list[TrialKey] = []
        try:
            jobs = [(k, out.trial_dir_of(k), _job(config, setup, k, p, checks)) for p, k in enumerate(setup.order, 1)]
            not_run = await run_trials(config, executor, jobs, records, on_trial, on_event)
        except anyio.get_cancelled_exc_class():
            # Synchronous on purpose: no checkpoint, so the pending cancellation cannot cut the write short.
            store.write_model(out.report, _report(config, setup, records, "interrupted", plan.created_at, [], checks))
            raise
        status = "budget_stopped" if not_run else "completed"
        report = _report(config, setup, records, status, plan.created_at, not_run, checks)
        store.write_model(out.report, report)
        return report
    finally:
        lock.release()
        await executor.aclose()


def _resolved(config: CompareConfig) -> CompareConfig:
    """``runner="auto"`` (and any ``auto`` in ``runners``) resolved to the agent used; the report records it."""
    runner, _ = resolve_runner(config.runner, config.runner_options)
    runners = tuple(resolve_runner(r, config.runner_options)[0] for r in config.runners)
    if (runner, runners) != (config.runner, config.runners):
        config = config.model_copy(update={"runner": runner, "runners": runners})
    return config


async def _qualify_bundles(config: CompareConfig, setup: _Setup, out: OutputLayout) -> dict[str, BundleVerdicts]:
    """Each task's artifact source qualified once, before any trial gets it (see harnessgym.compare.bundle)."""
    checks: dict[str, BundleVerdicts] = {}
    for label, source in setup.bundles.items():
        if source is None or not any(a != "plain" for a in setup.arms[label]):
            continue
        spec = setup.specs[label]
        work = out.root / "artifact_qualification" / label if label else out.root / "artifact_qualification"
        check = await qualify_bundle(source, spec.workspace_template, work, template_ignore(out.root))
        if config.require_active_harness and check.tool_count == 0:
            failed = "; ".join(f"{aid}: {(why.splitlines() or ['failed'])[0]}" for aid, why in check.failed.items())
            who = f"task {spec.name!r}: " if label else ""
            raise ConfigError(
                f"{who}no MCP server of {source} passed qualification with a tool ({failed or 'none listed a tool'}), "
                "so every harnessed trial would be invalid; fix the artifacts (the report is in "
                f"{check.report_path}), or pass {{require_active_harness=false}}",
                "artifact_source",
            )
        checks[label] = BundleVerdicts.of(check)
    return checks


def _clear(out: OutputLayout, setup: _Setup) -> None:
    """``--overwrite``: remove an earlier comparison's trials, plan and report (nothing else in the folder)."""
    tops = {"plain", "harnessed", *(arm_dir(a) for arms in setup.arms.values() for a in arms)}
    tops |= {t for t in setup.specs if t} | {r for r in setup.runners if r}
    old = store.read_model(out.plan, ComparePlan)
    for key in old.order if old is not None else []:
        tops.add(out.trial_dir_of(key).relative_to(out.root).parts[0])
    for name in tops:
        if (out.root / name).is_dir() and not (out.root / name).is_symlink():
            shutil.rmtree(out.root / name)
    out.report.unlink(missing_ok=True)
    out.plan.unlink(missing_ok=True)
