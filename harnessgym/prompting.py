"""Render the attempt, reflection, build and repair prompts from ``harnessgym/prompts/*.md``.

Everything but the task text is bounded, so prompts stay small however large a report or registry grows;
a long section is cut with a pointer to the whole file.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

from harnessgym.layout import KIND_DIRS, Layout
from harnessgym.records import AgentResult, SelectedImprovement, Verdict
from harnessgym.registry import ArtifactEntry, QualificationReport

__all__ = ["RESULT_SHAPE", "attempt_prompt", "build_prompt", "reflection_prompt", "repair_prompt"]

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
) -> str:
    verify_note = (
        f"harnessgym runs `{verify_command}` itself after this attempt; its verdict decides whether the task is "
        "solved, so run it yourself before you claim success."
        if verify_command
        else "If you solve the task, verify it objectively and say how in `verification`."
    )
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


def reflection_prompt(
    *, layout: Layout, iteration: int, result_path: Path, result: AgentResult | None, verdict: Verdict | None
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
        verdict_note=verdict_note,
        artifact_dirs=dirs,
    )


def build_prompt(
    *, layout: Layout, iteration: int, result_path: Path, selected: SelectedImprovement | None
) -> str:
    chosen = (
        bounded(selected.model_dump_json(exclude_none=True), 1000)
        if selected is not None
        else "nothing was recorded; build the single most useful instrument from your reflection"
    )
    return _render(
        "build", iteration=iteration, selected=chosen, result_path=result_path, registry_path=layout.registry
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
