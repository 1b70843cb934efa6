"""Running one agent phase: write the prompt, build the request, call the runner, report."""

from __future__ import annotations

from harnessgym import store
from harnessgym.loop.context import RunContext
from harnessgym.records import IterationRecord
from runners import Phase, PhaseOutcome, PhaseRequest

__all__ = ["run_agent_phase"]


async def run_agent_phase(
    ctx: RunContext,
    record: IterationRecord,
    phase: Phase,
    prompt: str,
    *,
    timeout: float,
    session_id: str | None = None,
    repair_index: int | None = None,
    key: str | None = None,
) -> PhaseOutcome:
    """Run ``phase`` and store its outcome in ``record.phases[key or phase]``; never raises for agent failures."""
    n = record.iteration
    files = ctx.run.phase(n, phase, repair_index)
    store.write_atomic(files.prompt, prompt)
    name = key or phase
    if phase != "attempt" and session_id is None:
        outcome = PhaseOutcome(
            phase=phase, status="failed", error_kind="no_session", prompt_path=files.prompt,
            message=f"the {name} of iteration {n} needs the attempt's session, and the runner reported none",
        )
    else:
        request = PhaseRequest(
            phase=phase,
            prompt=prompt,
            workspace=ctx.layout.workspace,
            run_id=ctx.run_id,
            iteration=n,
            timeout_seconds=timeout,
            session_id=session_id,
            result_path=ctx.run.result(n),
            prompt_path=files.prompt,
            stdout_path=files.stdout,
            stderr_path=files.stderr,
            transcript_path=files.transcript,
            mcp=ctx.mcp_launch(n, phase),
            repair_index=repair_index,
        )
        outcome = await ctx.runner.run_phase(request)
    record.phases[name] = outcome
    if outcome.status != "completed":
        await ctx.emit("warning", f"{name} {outcome.status}: {outcome.message}", iteration=n, phase=name,
                       data={"status": outcome.status, "error_kind": outcome.error_kind})
    return outcome
