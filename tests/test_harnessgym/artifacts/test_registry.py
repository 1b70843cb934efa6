"""The registry: upstream 0.1.1 bundles are understood, agent mistakes are set aside, files are discovered."""

from __future__ import annotations

import json
from pathlib import Path

from harnessgym import list_artifacts
from harnessgym.artifacts.registry import parse_registry
from harnessgym.store import read_registry, sync_registry, write_registry
from harnessgym.store.layout import Layout

UPSTREAM = {
    "version": 1,
    "updated_at": "2025-01-01T00:00:00Z",
    "artifacts": [
        {"id": "tool:.harnessgym/tools/p.py", "kind": "tool", "path": ".harnessgym/tools/p.py", "description": "d",
         "iteration": 1, "created_at": "2025-01-01T00:00:00Z",
         "metadata": {"source": "fake-runner", "qualification": {"status": "passed", "iteration": 1}}},
        {"kind": "skill", "path": ".harnessgym/skills/s/SKILL.md", "owner": "agent",
         "metadata": {"quarantined": True, "quarantine": {"status": "quarantined", "reason": "['bad']"}}},
        {"kind": "mcp", "path": ".harnessgym/mcp/m/mcp.json"},
    ],
    "metadata": {"note": "kept"},
}  # fmt: skip


def test_an_upstream_registry_is_read_with_quarantine_and_extras_kept(tmp_path: Path) -> None:
    registry, problems = parse_registry(UPSTREAM, tmp_path)
    assert problems == []
    assert [(a.id, a.state) for a in registry.artifacts] == [
        ("tool:.harnessgym/tools/p.py", "active"),
        ("skill:.harnessgym/skills/s/SKILL.md", "quarantined"),
        ("mcp:.harnessgym/mcp/m/mcp.json", "active"),
    ]
    assert registry.artifacts[1].quarantine_reason == "['bad']"
    assert registry.artifacts[1].metadata["owner"] == "agent"
    assert registry.artifacts[0].qualification and registry.artifacts[0].qualification.status == "passed"
    assert registry.metadata == {"note": "kept"}


def test_our_registry_round_trips_and_new_agent_entries_start_as_candidates(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    registry, _ = parse_registry(UPSTREAM, tmp_path)
    write_registry(layout, registry)
    data = json.loads(layout.registry.read_text())
    data["artifacts"].append({"kind": "tools", "path": str(tmp_path / ".harnessgym/tools/new.py")})
    layout.registry.write_text(json.dumps(data))
    again, problems = read_registry(layout)
    assert problems == []
    assert [(a.id, a.state) for a in again.artifacts][-1] == ("tool:.harnessgym/tools/new.py", "candidate")
    assert again.artifacts[:3] == registry.artifacts


def test_unregistered_files_are_discovered_and_deleted_ones_dropped(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    for rel in (
        ".harnessgym/tools/t.py",
        ".harnessgym/tools/__pycache__/t.cpython-311.pyc",
        ".harnessgym/skills/s/SKILL.md",
        ".harnessgym/skills/s/notes.md",
        ".harnessgym/mcp/m/server.py",
        ".harnessgym/mcp/m/harnessgym-mcp.json",
        ".harnessgym/mcp/m/mcp.json",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")  # fmt: skip
    registry, _ = parse_registry({"schema_version": 1, "artifacts": [{"kind": "docs", "path": "gone.md"}]}, tmp_path)
    notes = sync_registry(layout, registry, iteration=3)
    assert sorted(a.id for a in registry.artifacts) == [
        "mcp:.harnessgym/mcp/m/harnessgym-mcp.json",
        "skill:.harnessgym/skills/s/SKILL.md",
        "tool:.harnessgym/tools/t.py",
    ]
    assert all(a.iteration == 3 and a.state == "candidate" for a in registry.artifacts)
    assert any("'docs:gone.md' was deleted" in n for n in notes)


def test_list_artifacts_reads_a_broken_registry_without_raising(tmp_path: Path) -> None:
    (tmp_path / ".harnessgym").mkdir()
    (tmp_path / ".harnessgym" / "registry.json").write_text("{not json")
    assert list_artifacts(tmp_path) == []


def test_artifacts_are_qualified_promoted_and_quarantined_by_hand(tmp_path: Path) -> None:
    import anyio
    import pytest

    from harnessgym import ArtifactError, promote_artifact, qualify_artifact, quarantine_artifact

    skill_md = tmp_path / ".harnessgym" / "skills" / "s" / "SKILL.md"
    skill_md.parent.mkdir(parents=True)
    skill_md.write_text("---\nname: s\ndescription: Helps.\n---\n")
    sid = "skill:.harnessgym/skills/s/SKILL.md"
    with pytest.raises(ArtifactError, match="is candidate; qualify it first"):
        promote_artifact(tmp_path, sid)
    verdict = anyio.run(qualify_artifact, tmp_path, sid)
    assert verdict.status == "passed" and [a.state for a in list_artifacts(tmp_path)] == ["qualified"]
    assert not (tmp_path / ".claude" / "skills" / "s").exists()
    assert promote_artifact(tmp_path, sid).state == "active"
    assert (tmp_path / ".claude" / "skills" / "s").is_symlink()
    assert quarantine_artifact(tmp_path, sid, "misleading").quarantine_reason == "misleading"
    assert not (tmp_path / ".claude" / "skills" / "s").exists() and not (tmp_path / ".agents/skills/s").exists()
