"""``attempt`` (a fresh session works on the task) and ``verify`` (harnessgym measures the result itself)."""

from __future__ import annotations

from harnessgym import mcp_artifacts, prompting, store
from harnessgym.loop.agent import run_agent_phase
from harnessgym.loop.context import RunContext
from harnessgym.records import AGENT_STATUSES, AgentClaim, IterationRecord
from harnessgym.verify import extract_score, run_verify

__all__ = ["attempt", "verify"]


async def attempt(ctx: RunContext, record: IterationRecord) -> None:
    n = record.iteration
    cfg = ctx.config
    registry = ctx.registry()
    active = [a for a in registry.artifacts if a.state == "active"]
    servers = [s.name for s in ctx.activation.mcp_servers] if ctx.activation else []
    prompt = prompting.attempt_prompt(
        layout=ctx.layout,
        iteration=n,
        iterations=cfg.iterations,
        task=cfg.task_text,
        task_source=str(cfg.task_path) if cfg.task_path else "given as text",
        result_path=ctx.run.result(n),
        artifacts=active,
        quarantined=sum(a.state == "quarantined" for a in registry.artifacts),
        verify_command=cfg.verify_command,
        stop_score=cfg.stop_score,
        score_key=cfg.score_key,
        mcp_servers=servers,
    )
    outcome = await run_agent_phase(ctx, record, "attempt", prompt, timeout=cfg.attempt_timeout_for(n))
    result, problems = store.read_agent_result(ctx.run.result(n), n, "attempt")
    record.problems += problems
    claim = AgentClaim()
    if result is not None:
        status = result.status.strip().lower() if isinstance(result.status, str) else None
        if status is not None and status not in AGENT_STATUSES:
            record.problems.append(f"result.json of iteration {n} claims an unknown status {result.status!r}")
            status = None
        payload = result.model_dump(mode="json")
        claim = AgentClaim(
            status=status,
            verified=result.verified,
            score=extract_score(payload, cfg.score_key),
            summary=result.summary,
            used_harness_tools=[str(t) for t in result.used_harness_tools],
        )
    record.agent_claim = claim
    if claim.status in ("blocked", "incomplete", "failed"):
        record.status = claim.status  # type: ignore[assignment]
    elif outcome.status == "failed":
        record.status = "failed"
    else:
        record.status = "incomplete"


def _reached(score: float | None, target: float | None, higher_is_better: bool) -> bool:
    if score is None or target is None:
        return False
    return score >= target if higher_is_better else score <= target


async def verify(ctx: RunContext, record: IterationRecord) -> None:
    """Decide "solved" from evidence: the verify command's verdict if configured, else the agent's claim."""
    n = record.iteration
    cfg = ctx.config
    claim = record.agent_claim or AgentClaim()
    if cfg.verify_command:
        stdout, stderr, verdict_path = ctx.run.verify_files(n)
        verdict = await run_verify(
            cfg.verify_command, workspace=ctx.layout.workspace, timeout=cfg.verify_timeout,
            stdout_path=stdout, stderr_path=stderr, score_key=cfg.score_key, env=ctx.env,
        )
        store.write_model(verdict_path, verdict)
        record.verdict = verdict
        record.score = verdict.score
        record.solved = verdict.passed
        record.evidence = "verified" if verdict.passed else "none"
        if claim.status == "solved" and not verdict.passed:
            record.problems.append(
                f"the agent claimed iteration {n} solved, but `{cfg.verify_command}` says {verdict.status}"
            )
    else:
        record.score = claim.score
        record.solved = claim.status == "solved"
        record.evidence = "agent_claim" if record.solved else "none"
    record.mcp_calls = mcp_artifacts.calls_by_iteration(ctx.layout.workspace, ctx.run_id).get(n, 0)
    record.target_reached = _reached(record.score, cfg.stop_score, cfg.higher_is_better)
    if record.target_reached and not record.solved:
        record.solved = True
        record.evidence = "verified" if cfg.verify_command else "agent_claim"
    if record.solved:
        record.status = "solved"
    elif record.status == "running":
        record.status = "incomplete"
    data: dict[str, str | float | bool | None] = {
        "solved": record.solved, "evidence": record.evidence, "score": record.score,
        "verdict": record.verdict.status if record.verdict else None, "claim": claim.status,
    }
    await ctx.emit("verdict", f"iteration {n}: {'solved' if record.solved else 'not solved'} ({record.evidence})",
                   iteration=n, phase="verify", data=dict(data))
