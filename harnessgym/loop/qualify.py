"""``qualify`` (new artifacts are checked in a clean copy, repaired by the build session, and failures
quarantined one by one) and ``activate`` (what passed is handed to the next fresh session)."""

from __future__ import annotations

from harnessgym import store
from harnessgym.artifacts import activation
from harnessgym.artifacts.qualification import (
    apply_verdicts,
    needs_qualification,
    qualify_in_fresh_copy,
    trust_without_qualification,
)
from harnessgym.loop import prompting
from harnessgym.loop.agent import run_agent_phase
from harnessgym.loop.context import RunContext
from harnessgym.loop.host import prestart_host
from harnessgym.records import ArtifactNote, IterationRecord

__all__ = ["activate", "qualify"]


async def qualify(ctx: RunContext, record: IterationRecord) -> None:
    n = record.iteration
    cfg = ctx.config
    registry = ctx.registry(record)
    record.problems += store.sync_registry(ctx.layout, registry, iteration=n)
    candidates, problems = needs_qualification(ctx.layout, registry)
    record.problems += problems
    if candidates and record.status in ("blocked", "incomplete", "running"):
        record.status = "tooling_built"
    if not candidates:
        store.write_registry(ctx.layout, registry)
        record.qualification_status = "not_run"
        return
    if not cfg.qualify_artifacts:
        for entry in candidates:
            entry.state = "active"
        trust_without_qualification(ctx.layout, candidates)
        store.write_registry(ctx.layout, registry)
        record.qualification_status = "skipped"
        record.artifacts = [ArtifactNote(artifact_id=e.id, kind=e.kind, verdict="not_qualified", state=e.state)
                            for e in candidates]  # fmt: skip
        return
    store.write_registry(ctx.layout, registry)
    if any(e.kind == "mcp" for e in candidates):
        await prestart_host(ctx)  # its start overlaps the qualification below
    session = record.phases["build"].session_id if "build" in record.phases else None
    attempt = 1
    while True:
        dest = ctx.run.qualification_dir(n, attempt)
        report = await qualify_in_fresh_copy(
            ctx.layout,
            ctx.run.template,
            dest,
            candidates,
            run_id=ctx.run_id,
            iteration=n,
            attempt=attempt,
            mcp_pass_env=cfg.mcp_pass_env,
            require_self_tests=cfg.require_self_tests,
        )
        report_path = ctx.run.qualification_report(n, attempt)
        record.qualification_report = report_path
        if not report.failed or attempt > cfg.artifact_repair_attempts or session is None:
            break
        prompt = prompting.repair_prompt(
            repair_index=attempt, report=report, report_path=report_path, result_path=ctx.run.result(n)
        )
        outcome = await run_agent_phase(
            ctx,
            record,
            "repair",
            prompt,
            timeout=cfg.build_timeout,
            session_id=session,
            repair_index=attempt,
            key=f"repair_{attempt}",
        )
        session = outcome.session_id or session
        registry = ctx.registry(record)
        record.problems += store.sync_registry(ctx.layout, registry, iteration=n)
        store.write_registry(ctx.layout, registry)
        candidates, problems = needs_qualification(ctx.layout, registry)
        record.problems += problems
        attempt += 1
    _, failed = apply_verdicts(ctx.layout, registry, report, str(report_path), n, promote=True)
    store.write_registry(ctx.layout, registry)
    record.quarantined_artifacts = failed
    states = {e.id: e.state for e in registry.artifacts}
    record.artifacts = [
        ArtifactNote(artifact_id=v.artifact_id, kind=v.kind, verdict=v.status, state=states.get(v.artifact_id, "?"),
                     tools=list(v.tools), message=v.message if v.status == "failed" else "")
        for v in report.artifacts
    ]  # fmt: skip
    for entry in registry.artifacts:
        if entry.id in failed:
            record.problems.append(f"artifact {entry.id!r} was quarantined: {entry.quarantine_reason}")
    record.problems += report.warnings
    record.qualification_status = report.status
    for note in record.artifacts:
        tools = f" (tools: {', '.join(note.tools)})" if note.tools else ""
        await ctx.emit(
            "artifact",
            f"iteration {n}: {note.artifact_id} {note.verdict} qualification, now {note.state}{tools}",
            iteration=n,
            phase="qualify",
            data=note.model_dump(mode="json"),
        )
    if failed:
        await ctx.emit(
            "warning",
            f"{len(failed)} artifact(s) quarantined",
            iteration=n,
            phase="qualify",
            data={"quarantined": list(failed)},
        )


async def activate(ctx: RunContext, record: IterationRecord) -> None:
    n = record.iteration
    registry = ctx.registry()
    ctx.activation = activation.activate(
        ctx.layout, registry, run_id=ctx.run_id, iteration=n, copy_to=ctx.run.activation(n, post_build=True)
    )
    record.active_artifacts = [a.id for a in registry.artifacts if a.state == "active"]
    served = [f"{s.name}__{tool}" for s in ctx.activation.mcp_servers for note in record.artifacts
              if note.artifact_id == s.artifact_id for tool in note.tools]  # fmt: skip
    if served:
        await ctx.emit(
            "artifact",
            f"iteration {n}: the host serves {', '.join(served)} to the next session",
            iteration=n,
            phase="activate",
            data={"served": list(served)},
        )
    record.problems += [w for w in ctx.activation.warnings if w not in record.problems]
