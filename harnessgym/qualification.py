"""Qualify artifacts in a clean copy of the pre-run workspace plus the artifact bundle.

Each artifact gets its own verdict, so one broken artifact is quarantined without taking the bundle down.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harnessgym import mcp_artifacts, store
from harnessgym.layout import Layout
from harnessgym.records import utcnow
from harnessgym.registry import ArtifactEntry, ArtifactVerdict, QualificationNote, QualificationReport, Registry
from harnessgym.skills import check_skill

__all__ = ["apply_verdicts", "check_artifact", "qualify_in_fresh_copy"]


def _skill_md(root: Path) -> Path:
    return root if root.name == "SKILL.md" else root / "SKILL.md"


def check_artifact(workspace: Path, entry: ArtifactEntry) -> ArtifactVerdict:
    """Check one non-MCP artifact as it stands in ``workspace``."""
    path = workspace / entry.path

    def verdict(ok: bool, checks: list[str], message: str = "") -> ArtifactVerdict:
        return ArtifactVerdict(artifact_id=entry.id, kind=entry.kind, path=entry.path,
                               status="passed" if ok else "failed", checks=checks, message=message)

    if not path.exists():
        return verdict(False, ["exists"], f"{entry.path} is missing from the clean copy")
    if not store.is_inside(workspace, path) or (entry.kind == "skill" and not store.is_inside(workspace,
                                                                                              _skill_md(path))):
        return verdict(False, ["exists", "inside_workspace"],
                       f"{entry.path} leads outside the workspace through a symlink; artifacts must live inside it")
    if entry.kind == "skill":
        problem = check_skill(_skill_md(path))
        return verdict(problem is None, ["exists", "front_matter"], problem or "")
    if path.is_file() and path.suffix == ".py":
        try:
            compile(path.read_bytes(), str(path), "exec")
        except SyntaxError as exc:
            return verdict(False, ["exists", "python_syntax"], f"{entry.path} line {exc.lineno}: {exc.msg}")
        return verdict(True, ["exists", "python_syntax"])
    return verdict(True, ["exists"])


async def qualify_in_fresh_copy(
    layout: Layout,
    template: Path,
    dest: Path,
    entries: Sequence[ArtifactEntry],
    *,
    run_id: str | None = None,
    iteration: int | None = None,
    attempt: int = 1,
) -> QualificationReport:
    """Copy ``template`` to ``dest/workspace``, add the bundle, check ``entries`` there, write the report."""
    fresh = dest / "workspace"
    store.fresh_copy(template, fresh)
    store.copy_bundle(layout, fresh)
    verdicts = [check_artifact(fresh, e) for e in entries if e.kind != "mcp"]
    mcp_entries = [e for e in entries if e.kind == "mcp"]
    verdicts += await mcp_artifacts.qualify_mcp(mcp_entries, fresh, cache_dir=layout.mcp_cache)
    warnings = [f"{v.artifact_id}: {v.message}" for v in verdicts if v.status == "skipped"]
    if not verdicts:
        status = "skipped"
    elif any(v.status == "failed" for v in verdicts):
        status = "failed"
    else:
        status = "passed"
    report = QualificationReport(
        run_id=run_id, iteration=iteration, attempt=attempt, status=status, fresh_workspace=fresh,
        artifacts=verdicts, warnings=warnings,
    )
    store.write_model(dest / "qualification.json", report)
    return report


def apply_verdicts(layout: Layout, registry: Registry, report: QualificationReport, report_path: str,
                   iteration: int | None, *, promote: bool) -> tuple[list[str], list[str]]:
    """Mark passed artifacts qualified (active when ``promote``), quarantine failed ones; return both id lists."""
    passed: list[str] = []
    failed: list[str] = []
    by_id: dict[str, ArtifactVerdict] = {v.artifact_id: v for v in report.artifacts}
    for entry in registry.artifacts:
        verdict = by_id.get(entry.id)
        if verdict is None or verdict.status == "skipped":
            continue
        note = QualificationNote(status=verdict.status, report_path=report_path, iteration=iteration,
                                 updated_at=utcnow().isoformat())
        entry.qualification = note
        if verdict.status == "passed":
            entry.state = "active" if promote else "qualified"
            entry.quarantine_reason = None
            entry.digest = store.artifact_digest(layout, entry)
            passed.append(entry.id)
        else:
            entry.state = "quarantined"
            entry.quarantine_reason = verdict.message or "failed qualification"
            failed.append(entry.id)
    return passed, failed
