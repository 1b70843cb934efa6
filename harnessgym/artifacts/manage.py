"""Artifacts outside a run: list, qualify, promote (active for the next fresh session) and quarantine.

Each operation takes the workspace lock briefly, so it never races a live run's registry writes; while a run
holds the workspace these raise :class:`~harnessgym.errors.WorkspaceLockedError`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from harnessgym import store
from harnessgym.artifacts import activation
from harnessgym.artifacts.qualification import apply_verdicts, qualify_in_fresh_copy
from harnessgym.artifacts.registry import ArtifactEntry, ArtifactVerdict, Registry
from harnessgym.errors import ArtifactError, ArtifactNotFoundError
from harnessgym.store.layout import Layout

__all__ = ["list_artifacts", "promote_artifact", "qualify_artifact", "qualify_artifacts", "quarantine_artifact"]


def _open(workspace: Path) -> tuple[Layout, store.WorkspaceLock, Registry]:
    layout = store.ensure_workspace(Path(workspace).absolute())
    lock = store.WorkspaceLock.acquire(layout, "artifact-maintenance")
    registry, _ = store.read_registry(layout)
    store.sync_registry(layout, registry, iteration=None)
    return layout, lock, registry


def _entry(layout: Layout, registry: Registry, artifact_id: str) -> ArtifactEntry:
    entry = registry.get(artifact_id)
    if entry is None:
        raise ArtifactNotFoundError(artifact_id, layout.workspace)
    return entry


def list_artifacts(workspace: Path) -> list[ArtifactEntry]:
    """Every artifact in the registry (read-only; agent mistakes in the file are skipped, not raised)."""
    layout = Layout(Path(workspace).absolute())
    registry, _ = store.read_registry(layout)
    return registry.artifacts


async def qualify_artifact(workspace: Path, artifact_id: str, *, promote: bool = False) -> ArtifactVerdict:
    """Qualify one artifact in a clean copy of the workspace; it becomes ``qualified`` (``active`` with
    ``promote``) or ``quarantined``."""
    [verdict] = await qualify_artifacts(workspace, [artifact_id], promote=promote)
    return verdict


async def qualify_artifacts(
    workspace: Path, artifact_ids: list[str] | None = None, *, promote: bool = False
) -> list[ArtifactVerdict]:
    """Qualify the named artifacts (None: every one in the registry) together in one clean copy of the workspace,
    as a bundle copied in from elsewhere needs; what passes becomes ``qualified`` (``active`` with ``promote``,
    so the host serves it), what fails ``quarantined``. Verdicts come in the order of the ids."""
    layout, lock, registry = _open(workspace)
    try:
        ids = [e.id for e in registry.artifacts] if artifact_ids is None else list(artifact_ids)
        entries = [_entry(layout, registry, i) for i in ids]
        if not entries:
            return []
        with tempfile.TemporaryDirectory(prefix="harnessgym-qualify-") as tmp:
            template = Path(tmp) / "template"
            template.mkdir()
            store.fresh_copy(_template_of(layout, Path(tmp)), template)
            report = await qualify_in_fresh_copy(layout, template, Path(tmp) / "check", entries)
        apply_verdicts(layout, registry, report, "", None, promote=promote)
        store.write_registry(layout, registry)
        activation.activate(layout, registry)
        by_id = {v.artifact_id: v for v in report.artifacts}
        return [by_id.get(e.id) or ArtifactVerdict(artifact_id=e.id, kind=e.kind, path=e.path, status="skipped",
                                                   message="nothing to check") for e in entries]  # fmt: skip
    finally:
        lock.release()


def _template_of(layout: Layout, tmp: Path) -> Path:
    """The workspace without its harness, as a clean starting point."""
    import shutil

    target = tmp / "source"
    shutil.copytree(layout.workspace, target, symlinks=True, ignore=store.ignore_for_template)
    return target


def promote_artifact(workspace: Path, artifact_id: str) -> ArtifactEntry:
    """Make a qualified artifact active for the next fresh session."""
    layout, lock, registry = _open(workspace)
    try:
        entry = _entry(layout, registry, artifact_id)
        if entry.state not in ("qualified", "active"):
            raise ArtifactError(
                artifact_id,
                f"artifact {artifact_id!r} is {entry.state}; qualify it first "
                f"(`harnessgym artifacts qualify {artifact_id}`, serve: qualify_artifact)",
            )
        entry.state = "active"
        store.write_registry(layout, registry)
        activation.activate(layout, registry)
        return entry
    finally:
        lock.release()


def quarantine_artifact(workspace: Path, artifact_id: str, reason: str) -> ArtifactEntry:
    """Hide an artifact from activation (its skill links are removed, its server no longer served)."""
    layout, lock, registry = _open(workspace)
    try:
        entry = _entry(layout, registry, artifact_id)
        entry.state = "quarantined"
        entry.quarantine_reason = reason or "quarantined by hand"
        store.write_registry(layout, registry)
        activation.activate(layout, registry)
        return entry
    finally:
        lock.release()
