"""Running one agent phase: write the prompt, build the request, call the runner, report.

While the agent works, what it does is relayed as progress: every tool call its CLI's events show
(``agent_action``) and every call the host records for this iteration (``mcp_call``, read from the host's
telemetry as it grows). Progress is best-effort: a flood of tool calls drops events rather than slowing the
CLI's stdout reader, and nothing here can fail the phase.
"""

from __future__ import annotations

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from harnessgym import store
from harnessgym.artifacts import servers as mcp_artifacts
from harnessgym.loop.context import RunContext
from harnessgym.loop.host import ensure_host
from harnessgym.records import IterationRecord
from runners import AgentAction, GoalSpec, Phase, PhaseOutcome, PhaseRequest

__all__ = ["run_agent_phase"]

_POLL_SECONDS = 1.0
"""How often the host's telemetry is looked at while a phase runs (a read of what was appended, if anything)."""


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
            phase=phase,
            status="failed",
            error_kind="no_session",
            prompt_path=files.prompt,
            message=f"the {name} of iteration {n} needs the attempt's session, and the runner reported none",
        )
    else:
        mcp = ctx.mcp_launch(n, phase)
        if mcp is not None:
            problem = await ensure_host(ctx)  # before the agent starts: its first turn gets the tools
            if problem is not None:
                record.problems.append(problem)
        send, receive = anyio.create_memory_object_stream[AgentAction](max_buffer_size=256)

        def on_action(action: AgentAction) -> None:
            try:
                send.send_nowait(action)
            except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass  # progress only: never block or fail the CLI's stdout reader

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
            on_action=on_action,
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(_relay, ctx, receive, n, name)
            with send:
                outcome = await ctx.runner.run_phase(request)
        _judge_delivery(record, name, outcome)
    record.phases[name] = outcome
    if outcome.status != "completed":
        await ctx.emit(
            "warning",
            f"{name} {outcome.status}: {outcome.message}",
            iteration=n,
            phase=name,
            data={"status": outcome.status, "error_kind": outcome.error_kind},
        )
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
        note = (
            f"the harnessgym MCP server was not delivered to the {name} session: {delivery.message} "
            f"(its tools the CLI reported: {tools})"
        )
        outcome.message = f"{outcome.message}; {note}" if outcome.message else note
        record.problems.append(note)


async def _relay(ctx: RunContext, actions: MemoryObjectReceiveStream[AgentAction], n: int, name: str) -> None:
    """Emit the agent's tool calls as they come and the host's recorded calls of iteration ``n`` as they are
    written, until the phase ends (the sender closes); a last look at the telemetry catches a late line."""
    tail = mcp_artifacts.call_tail(ctx.layout.workspace)
    tools = mcp = 0
    with actions:
        while True:
            action: AgentAction | None = None
            ended = False
            with anyio.move_on_after(_POLL_SECONDS):
                try:
                    action = await actions.receive()
                except anyio.EndOfStream:
                    ended = True
            for call in tail.read_new() if tail is not None else []:  # calls made before this action come first
                if call.method != "tools/call" or call.run_id != ctx.run_id or call.iteration != n:
                    continue
                mcp += 1
                tool = f"{call.server}__{call.tool_name}"
                await ctx.emit("mcp_call", f"iteration {n} {name}: the host served {tool} ({call.status}, "
                               f"{call.duration_ms} ms)", iteration=n, phase=name,
                               data={"tool": tool, "status": call.status, "duration_ms": call.duration_ms,
                                     "tool_calls": tools, "mcp_calls": mcp})  # fmt: skip
            if action is not None:
                tools += 1
                text = f"{action.tool} {action.detail}".strip()
                await ctx.emit("agent_action", f"iteration {n} {name}: {text}", iteration=n, phase=name,
                               data={"tool": action.tool, "detail": action.detail, "mcp": action.mcp,
                                     "tool_calls": tools, "mcp_calls": mcp})  # fmt: skip
            if ended:
                return
