"""The harnessed trials' artifacts, checked before use.

An ``--artifact-source`` is a bundle copied in from elsewhere: its registry may say "active" about anything
(HarnessGym 0.1.1's registries mark every artifact so). Before the first trial, every non-quarantined artifact
of the source is qualified once, in a fresh copy of the template with the bundle (skills checked, MCP servers
smoke-tested and self-tested, tools and verifiers run their declared self-test), and each harnessed trial gets
the bundle with exactly those verdicts: what passed is active, what failed is quarantined and never activated.
The tools each MCP server listed in qualification are what the trial can be given, which decides whether a
harnessed trial had a working harness at all (HarnessGym 0.1.1's rule: at least one MCP tool).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from harnessgym import store
from harnessgym.artifacts.qualification import apply_verdicts, qualify_in_fresh_copy
from harnessgym.artifacts.registry import QualificationReport
from harnessgym.store.layout import Layout

__all__ = ["BundleCheck", "apply_bundle_check", "qualify_bundle"]


@dataclass
class BundleCheck:
    """The verdicts on the source's artifacts, shared by every harnessed trial."""

    report: QualificationReport | None = None
    report_path: Path | None = None
    tools: dict[str, list[str]] = field(default_factory=dict)
    """Tools listed in qualification, by MCP artifact id (only servers that passed)."""
    failed: dict[str, str] = field(default_factory=dict)
    """Artifacts that failed qualification, with the reason."""

    @property
    def tool_count(self) -> int:
        return sum(len(tools) for tools in self.tools.values())


async def qualify_bundle(
    source: Path, template: Path, work: Path, ignore: Callable[[str, list[str]], set[str]]
) -> BundleCheck:
    """Qualify the source's non-quarantined artifacts in a fresh copy of ``template`` under ``work``."""
    layout = Layout(source)
    registry, _ = store.read_registry(layout)
    entries = [e for e in registry.artifacts if e.state != "quarantined"]
    if not entries:
        return BundleCheck()
    clean = work / "template"
    if work.exists():
        await anyio.to_thread.run_sync(shutil.rmtree, work)
    await anyio.to_thread.run_sync(lambda: shutil.copytree(template, clean, symlinks=True, ignore=ignore))
    report = await qualify_in_fresh_copy(layout, clean, work, entries)
    check = BundleCheck(report=report, report_path=work / "qualification.json")
    for verdict in report.artifacts:
        if verdict.status == "passed" and verdict.kind == "mcp":
            check.tools[verdict.artifact_id] = list(verdict.tools)
        elif verdict.status == "failed":
            check.failed[verdict.artifact_id] = verdict.message or "failed qualification"
    return check


def apply_bundle_check(check: BundleCheck, trial_workspace: Path) -> list[str]:
    """Give the trial's copied registry the bundle's verdicts; returns the problems to record."""
    if check.report is None:
        return []
    layout = Layout(trial_workspace)
    registry, _ = store.read_registry(layout)
    apply_verdicts(layout, registry, check.report, str(check.report_path), None, promote=True)
    store.write_registry(layout, registry)
    return [f"artifact {aid!r} failed qualification and was not activated: {why}" for aid, why in check.failed.items()]
