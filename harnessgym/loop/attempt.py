"""``attempt`` (a fresh session works on the task) and ``verify`` (harnessgym measures the result itself)."""

from __future__ import annotations

from harnessgym import store
from harnessgym.artifacts import servers as mcp_artifacts
from harnessgym.evidence.scores import Measurement, reached
from harnessgym.evidence.verify import extract_score, run_verify
from harnessgym.loop import optimize, prompting
from harnessgym.loop.agent import run_agent_phase
from harnessgym.loop.context import RunContext
from harnessgym.records import AGENT_STATUSES, AgentClaim, IterationRecord, Verdict

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
        score_key=cfg.measure_score_key,
        mcp_servers=servers,
        post_attempt_command=cfg.post_attempt_command,
        optimization=optimize.attempt_note(ctx, n),
    )
    record.mcp_calls_from = mcp_artifacts.calls_offset(ctx.layout.workspace)
    goal = cfg.goal_spec
    outcome = await run_agent_phase(ctx, record, "attempt", prompt, timeout=cfg.attempt_timeout_for(n), goal=goal)
    if goal is not None:
        record.goal = outcome.goal
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
            score=extract_score(payload, cfg.measure_score_key),
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


async def verify(ctx: RunContext, record: IterationRecord) -> None:
    """Decide "solved" from evidence (see :mod:`harnessgym.records`): the measured target in optimization mode,
    else the verify command's verdict, else the post-attempt command's, else the agent's claim."""
    n = record.iteration
    cfg = ctx.config
    claim = record.agent_claim or AgentClaim()
    verdict = None
    if cfg.verify_command:
        stdout, stderr, verdict_path = ctx.run.verify_files(n)
        verdict = await run_verify(
            cfg.verify_command,
            workspace=ctx.layout.workspace,
            timeout=cfg.verify_timeout,
            stdout_path=stdout,
            stderr_path=stderr,
            score_key=cfg.score_key,
            env=ctx.env,
            pass_env=cfg.verify_pass_env,
        )
        store.write_model(verdict_path, verdict)
        record.verdict = verdict
    post = await optimize.post_attempt(ctx, record)
    if cfg.optimization_mode:
        optimize.score_iteration(ctx, record, verdict, post)
    else:
        _judge(ctx, record, claim, verdict, post)
    calls = mcp_artifacts.calls_by_iteration(ctx.layout.workspace, ctx.run_id, since=record.mcp_calls_from)
    record.mcp_calls = calls.get(n, 0)
    if record.solved:
        record.status = "solved"
    elif record.status == "running":
        record.status = "incomplete"
    data: dict[str, str | float | bool | None] = {
        "solved": record.solved,
        "evidence": record.evidence,
        "score": record.score,
        "verdict": record.verdict.status if record.verdict else None,
        "claim": claim.status,
        "post_attempt": post.status if post else None,
    }
    await ctx.emit(
        "verdict",
        f"iteration {n}: {'solved' if record.solved else 'not solved'} ({record.evidence})"
        + (f", score {record.score:g}" if record.score is not None else ""),
        iteration=n,
        phase="verify",
        data=dict(data),
    )


def _judge(
    ctx: RunContext, record: IterationRecord, claim: AgentClaim, verdict: Verdict | None, post: Measurement | None
) -> None:
    """Outside optimization mode: a verify command decides, else a post-attempt command that states a passing
    ``status`` (a bare metrics object is a measurement, not a verdict), else the claim; a measured score (the
    post-attempt command's first) reaching the stop score also solves."""
    cfg = ctx.config
    gate: Verdict | Measurement | None = verdict if verdict is not None else post
    passed = verdict.passed if verdict is not None else post.states_pass if post is not None else False
    measured = [m.score for m in (post, verdict) if m is not None and m.score is not None]
    if gate is not None:
        record.score = measured[0] if measured else None
        record.solved = passed
        record.evidence = "verified" if passed else "none"
        if claim.status == "solved" and not passed:
            said = gate.status if verdict is not None or not gate.passed else "no passing status"
            record.problems.append(
                f"the agent claimed iteration {record.iteration} solved, but `{gate.command}` says {said}"
            )
    else:
        record.score = claim.score
        record.solved = claim.status == "solved"
        record.evidence = "agent_claim" if record.solved else "none"
    # Only harnessgym's own measurement can reach the stop score; the agent's claimed score never does.
    record.target_reached = bool(measured) and reached(measured[0], cfg.stop_score, cfg.higher_is_better)
    if record.target_reached and not record.solved:
        record.solved = True
        record.evidence = "verified"
