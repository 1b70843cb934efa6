"""``reflection`` (the attempt's session looks back and picks one improvement) and ``build`` (it builds it)."""

from __future__ import annotations

from harnessgym import store
from harnessgym.loop import prompting
from harnessgym.loop.agent import run_agent_phase
from harnessgym.loop.context import RunContext
from harnessgym.records import IterationRecord

__all__ = ["build", "reflection"]


async def reflection(ctx: RunContext, record: IterationRecord) -> None:
    n = record.iteration
    result, _ = store.read_agent_result(ctx.run.result(n), n, "reflection")
    prompt = prompting.reflection_prompt(
        layout=ctx.layout,
        iteration=n,
        result_path=ctx.run.result(n),
        result=result,
        verdict=record.verdict,
        post_attempt=record.post_attempt,
        optimization=record.optimization,
        depth=ctx.config.harness_depth,
    )
    attempt = record.phases.get("attempt")
    await run_agent_phase(
        ctx,
        record,
        "reflection",
        prompt,
        timeout=ctx.config.reflection_limit,
        session_id=attempt.session_id if attempt else None,
    )
    after, problems = store.read_agent_result(ctx.run.result(n), n, "reflection")
    record.problems += [p for p in problems if p not in record.problems]
    if after is not None and after.reflection is not None:
        record.selected_improvement = after.reflection.selected_improvement


async def build(ctx: RunContext, record: IterationRecord) -> None:
    n = record.iteration
    prompt = prompting.build_prompt(
        layout=ctx.layout,
        iteration=n,
        result_path=ctx.run.result(n),
        selected=record.selected_improvement,
        depth=ctx.config.harness_depth,
    )
    session = None
    for name in ("reflection", "attempt"):
        outcome = record.phases.get(name)
        if outcome is not None and outcome.session_id:
            session = outcome.session_id
            break
    await run_agent_phase(ctx, record, "build", prompt, timeout=ctx.config.build_timeout, session_id=session)
