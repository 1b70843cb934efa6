"""``prepare``: reset the task state if asked, pick up the registry, and activate artifacts for the attempt."""

from __future__ import annotations

from harnessgym import store
from harnessgym.artifacts import activation
from harnessgym.artifacts.qualification import apply_verdicts, has_verdict, qualify_in_fresh_copy
from harnessgym.artifacts.registry import Registry
from harnessgym.loop.context import RunContext
from harnessgym.records import IterationRecord
from mcp_host import VerdictStore

__all__ = ["prepare"]


async def prepare(ctx: RunContext, record: IterationRecord) -> None:
    n = record.iteration
    if ctx.config.task_state == "reset" and n >= 2:
        store.restore_task_state(ctx.layout)
    registry = ctx.registry(record)
    record.problems += store.sync_registry(ctx.layout, registry, iteration=None)
    store.write_registry(ctx.layout, registry)
    checked = await _check_unqualified(ctx, record, registry)
    ctx.activation = activation.activate(
        ctx.layout, registry, run_id=ctx.run_id, iteration=n, copy_to=ctx.run.activation(n), checked=checked
    )
    record.problems += ctx.activation.warnings


async def _check_unqualified(ctx: RunContext, record: IterationRecord, registry: Registry) -> frozenset[str]:
    """Qualify, before it is first activated, every artifact that would be active without a harnessgym verdict
    for its current content (a bundle copied in, HarnessGym 0.1.1's registry, a file changed since); what fails
    is quarantined. ``--no-qualify-artifacts`` trusts them as they are.

    Returns the ids found passing when nothing was qualified (so nothing was awaited since): activation right
    after need not ask again. After a qualification, activation asks about every entry itself."""
    verdicts = VerdictStore(ctx.layout.workspace)
    passing: set[str] = set()
    unchecked = []
    for entry in registry.artifacts:
        if entry.state in ("active", "qualified"):
            if has_verdict(ctx.layout, entry, verdicts):
                passing.add(entry.id)
            else:
                unchecked.append(entry)
    if not unchecked:
        return frozenset(passing)
    if not ctx.config.qualify_artifacts or not ctx.run.template.is_dir():
        return frozenset(passing)  # nothing awaited: the others stay inactive, said by activation
    n = record.iteration
    await ctx.emit("phase_started", f"iteration {n}: qualifying {len(unchecked)} artifact(s) harnessgym has not "
                   "checked before activating them", iteration=n, phase="prepare")  # fmt: skip
    dest = ctx.run.iteration_dir(n) / "qualification" / "before_activation"
    report = await qualify_in_fresh_copy(ctx.layout, ctx.run.template, dest, unchecked, run_id=ctx.run_id, iteration=n,
                                         mcp_pass_env=ctx.config.mcp_pass_env,
                                         require_self_tests=ctx.config.require_self_tests)  # fmt: skip
    _, failed = apply_verdicts(ctx.layout, registry, report, str(dest / "qualification.json"), n, promote=True)
    store.write_registry(ctx.layout, registry)
    for entry in registry.artifacts:
        if entry.id in failed:
            record.problems.append(f"artifact {entry.id!r} had no harnessgym verdict and failed qualification before "
                                   f"its first activation; it was quarantined: {entry.quarantine_reason}")  # fmt: skip
    return frozenset()
