"""``prepare``: reset the task state if asked, pick up the registry, and activate artifacts for the attempt."""

from __future__ import annotations

from harnessgym import store
from harnessgym.artifacts import activation
from harnessgym.loop.context import RunContext
from harnessgym.records import IterationRecord

__all__ = ["prepare"]


async def prepare(ctx: RunContext, record: IterationRecord) -> None:
    n = record.iteration
    if ctx.config.task_state == "reset" and n >= 2:
        store.restore_task_state(ctx.layout)
    registry = ctx.registry(record)
    record.problems += store.sync_registry(ctx.layout, registry, iteration=None)
    store.write_registry(ctx.layout, registry)
    ctx.activation = activation.activate(
        ctx.layout, registry, run_id=ctx.run_id, iteration=n, copy_to=ctx.run.activation(n)
    )
    record.problems += ctx.activation.warnings
