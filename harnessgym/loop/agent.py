"""Running one agent phase: write the prompt, build the request, call the runner, report."""

from __future__ import annotations

from harnessgym import store
from harnessgym.loop.context import RunContext
from harnessgym.loop.host import ensure_host
from harnessgym.records import IterationRecord
from runners import GoalSpec, Phase, PhaseOutcome, PhaseRequest

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
    goal: GoalSpec | None = None,
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
        mcp = ctx.mcp_launch(n, phase)
        if mcp is not None:
            problem = await ensure_host(ctx)  # before the agent starts: its first turn gets the tools
            if problem is not None:
                record.problems.append(problem)
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
            mcp=mcp,
            env={"HARNESSGYM_RUN_ID": ctx.run_id, "HARNESSGYM_ITERATION": str(n), "HARNESSGYM_PHASE": phase},
            repair_index=repair_index,
            goal=goal,
        )
        outcome = await ctx.runner.run_phase(request)
        _judge_delivery(record, name, outcome)
    record.phases[name] = outcome
    if outcome.status != "completed":
        await ctx.emit("warning", f"{name} {outcome.status}: {outcome.message}", iteration=n, phase=name,
                       data={"status": outcome.status, "error_kind": outcome.error_kind})
    return outcome


def _judge_delivery(record: IterationRecord, name: str, outcome: PhaseOutcome) -> None:
    """A session handed the host that did not get its tools is a failed delivery: said in the phase's result
    and in the iteration, and an attempt like that is not counted as harnessed."""
    delivery = outcome.mcp_delivery
    if delivery is None:
        return
    if name == "attempt":
        record.mcp_delivered = delivery.status == "delivered"
    if delivery.status == "failed":
        tools = ", ".join(delivery.tools) or "none"
        note = f"the harnessgym MCP server was not delivered to the {name} session: {delivery.message} " \
               f"(its tools the CLI reported: {tools})"
        outcome.message = f"{outcome.message}; {note}" if outcome.message else note
        record.problems.append(note)
