"""Render the attempt, reflection, build and repair prompts from ``harnessgym/loop/prompts/*.md``.

Everything but the task text is bounded, so prompts stay small however large a report or registry grows;
a long section is cut with a pointer to the whole file.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

from harnessgym.artifacts.registry import ArtifactEntry, QualificationReport
from harnessgym.evidence.scores import Measurement, OptimizationStep
from harnessgym.records import AgentResult, SelectedImprovement, Verdict
from harnessgym.store.layout import KIND_DIRS, Layout

__all__ = [
    "DEPTH_GUIDANCE",
    "RESULT_SHAPE",
    "attempt_prompt",
    "build_prompt",
    "optimization_note",
    "reflection_prompt",
    "repair_prompt",
]

DEPTH_GUIDANCE: dict[str, str] = {
    "standard": (
        "Harness depth: standard. Keep the artifact focused and small: one instrument that answers the question "
        "this attempt could not, with a short self-test."
    ),
    "deep": "\n".join(
        [
            "Harness depth: deep. Grow a real toolkit across iterations, not a note:",
            "- several executable tools that together cover observation (inspect state, intermediate values, traces),",
            "  verification (a checker that says pass or fail with its evidence), search (sweeps or candidate",
            "  comparison with a structured result per candidate), rollback (save and restore a known-good state",
            "  before a risky change) and history/ranking (log every measured try and rank them);",
            "- each tool prints structured JSON and has a deterministic self-test of its success and error paths on a",
            "  small fixture (no timing-sensitive checks, no asserting which candidate wins);",
            "- extend what earlier iterations built instead of starting over;",
            "- documentation alone is not an artifact: a skill must point at tools that run.",
        ]
    ),
}
"""How much tooling the reflection and build prompts ask for (``RunConfig.harness_depth``)."""

TEMPLATE_DIR = Path(__file__).parent / "prompts"
MAX_SECTION = 4000
MAX_ARTIFACTS = 40

RESULT_SHAPE = json.dumps(
    {
        "status": "solved | blocked | incomplete | failed",
        "verified": False,
        "summary": "what you did and found",
        "blockers": ["..."],
        "missing_tooling": ["an instrument that would have helped"],
        "verification": {"status": "passed | failed | not_run", "command": "..."},
        "metrics": {"score": None},
        "used_harness_tools": ["..."],
        "used_harness_artifacts": ["..."],
    },
    indent=2,
)


def _render(name: str, **values: object) -> str:
    text = (TEMPLATE_DIR / f"{name}.md").read_text(encoding="utf-8")
    return Template(text).safe_substitute({k: str(v) for k, v in values.items()})


def bounded(text: str, limit: int = MAX_SECTION, whole: Path | None = None) -> str:
    if len(text) <= limit:
        return text
    where = f" (the whole text is in {whole})" if whole is not None else ""
    return text[:limit] + f"\n... [{len(text) - limit} more characters cut{where}]"


def harness_section(artifacts: list[ArtifactEntry], quarantined: int) -> str:
    if not artifacts:
        lines = ["None yet."]
    else:
        lines = [f"- `{a.path}` ({a.kind}): {bounded(a.description or 'no description', 200)}" for a in artifacts]
        if len(lines) > MAX_ARTIFACTS:
            more = len(lines) - MAX_ARTIFACTS
            lines = [*lines[:MAX_ARTIFACTS], f"- ... and {more} more in .harnessgym/registry.json"]
    if quarantined:
        lines.append(f"({quarantined} quarantined artifact(s) are hidden: they failed qualification.)")
    return "\n".join(lines)


def attempt_prompt(
    *,
    layout: Layout,
    iteration: int,
    iterations: int,
    task: str,
    task_source: str,
    result_path: Path,
    artifacts: list[ArtifactEntry],
    quarantined: int,
    verify_command: str | None,
    stop_score: float | None,
    score_key: str,
    mcp_servers: list[str],
    post_attempt_command: str | None = None,
    optimization: str = "",
) -> str:
    verify_note = (
        f"harnessgym runs `{verify_command}` itself after this attempt; its verdict decides whether the task is "
        "solved, so run it yourself before you claim success."
        if verify_command
        else "If you solve the task, verify it objectively and say how in `verification`."
    )
    if post_attempt_command:
        verify_note += (
            f"\n- After your attempt harnessgym also runs `{post_attempt_command}` and reads a score from "
            "its JSON output; the measured score counts, not the one you write."
        )
    if optimization:
        verify_note += "\n- " + optimization
    stop_note = (
        f"- The target is {score_key} = {stop_score:g}; record your measured `{score_key}` in `metrics`."
        if stop_score is not None
        else ""
    )
    mcp_note = (
        "MCP tools from the harness are available through the `harnessgym` server: "
        + ", ".join(f"`{s}`" for s in mcp_servers)
        + ". If your client has no native MCP tools, call one with "
        "`harnessgym mcp call --workspace . --server NAME --tool TOOL --arguments '<json>'`."
        if mcp_servers
        else ""
    )
    return _render(
        "attempt",
        workspace=layout.workspace,
        iteration=iteration,
        iterations=iterations,
        task=task,
        task_source=task_source,
        harness=harness_section(artifacts, quarantined),
        mcp_note=mcp_note,
        verify_note=verify_note,
        stop_note=stop_note,
        result_path=result_path,
        result_shape=RESULT_SHAPE,
    )


def optimization_note(
    *, command: str, score_key: str, higher_is_better: bool, baseline: float | None, best: float | None
) -> str:
    """What the attempt prompt says in optimization mode: the goal is a better measured score."""
    direction = "higher" if higher_is_better else "lower"
    standing = f"; baseline {baseline:g}" if baseline is not None else ""
    standing += f", best so far {best:g}" if best is not None else ""
    return (
        f"This is an optimization task: improve `{score_key}` ({direction} is better{standing}) as measured by "
        f"`{command}` after your attempt. Measure often, keep a last-known-good copy of what you change, and leave "
        "the workspace in its best state you measured; record your measured score in `metrics`."
    )


def _measured_note(post: Measurement | None, step: OptimizationStep | None) -> str:
    if post is None and step is None:
        return ""
    parts = []
    if post is not None:
        score = f", score {post.score:g}" if post.score is not None else ""
        parts.append(
            f"The post-attempt command `{post.command}` {post.status} "
            f"({'passed' if post.passed else 'not passed'}{score}; output in {post.stdout_path})."
        )
    if step is not None:

        def show(value: float | None) -> str:
            return "none" if value is None else f"{value:g}"

        parts.append(
            f"Optimization ({'higher' if step.higher_is_better else 'lower'} is better): counted score "
            f"{show(step.current_score)}, baseline {show(step.baseline_score)}, best before "
            f"{show(step.previous_best_score)}. Prefer instruments that make the next attempt measurably "
            "better: fast dev-mode measurement, sweeps, and guards against overfitting the measurement."
        )
    return "\n\n" + "\n".join(parts)


def reflection_prompt(
    *,
    layout: Layout,
    iteration: int,
    result_path: Path,
    result: AgentResult | None,
    verdict: Verdict | None,
    post_attempt: Measurement | None = None,
    optimization: OptimizationStep | None = None,
    depth: str = "deep",
) -> str:
    excerpt = result.model_dump_json(indent=2, exclude_defaults=True) if result is not None else "{}"
    if verdict is None:
        verdict_note = "No verify command is configured; your own claim is all there is."
    else:
        verdict_note = (
            f"harnessgym ran `{verdict.command}` after the attempt: {verdict.status}"
            + (f", score {verdict.score:g}" if verdict.score is not None else "")
            + f" (output in {verdict.stdout_path})."
        )
    dirs = "\n".join(f"- `.harnessgym/{d}/` for {k} artifacts" for k, d in KIND_DIRS.items())
    return _render(
        "reflection",
        iteration=iteration,
        result_path=result_path,
        result_excerpt=bounded(excerpt, whole=result_path),
        verdict_note=verdict_note + bounded(_measured_note(post_attempt, optimization), 1500),
        artifact_dirs=dirs,
        depth_note=DEPTH_GUIDANCE[depth],
    )


def build_prompt(
    *, layout: Layout, iteration: int, result_path: Path, selected: SelectedImprovement | None, depth: str = "deep"
) -> str:
    chosen = (
        bounded(selected.model_dump_json(exclude_none=True), 1000)
        if selected is not None
        else "nothing was recorded; build the single most useful instrument from your reflection"
    )
    return _render(
        "build",
        iteration=iteration,
        selected=chosen,
        result_path=result_path,
        registry_path=layout.registry,
        depth_note=DEPTH_GUIDANCE[depth],
    )


def repair_prompt(*, repair_index: int, report: QualificationReport, report_path: Path, result_path: Path) -> str:
    lines = [f"Qualification status: {report.status}."]
    for verdict in report.failed:
        lines.append(f"- {verdict.artifact_id}: {bounded(verdict.message or 'failed', 600)}")
    lines += [f"- warning: {bounded(w, 300)}" for w in report.warnings[:10]]
    return _render(
        "repair",
        repair_index=repair_index,
        report_summary=bounded("\n".join(lines), whole=report_path),
        report_path=report_path,
        result_path=result_path,
    )
