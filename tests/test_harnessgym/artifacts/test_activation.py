"""Skill activation: links where Codex and Claude look, replaced atomically, removed with their skill."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harnessgym.artifacts.activation import activate
from harnessgym.artifacts.qualification import trust_without_qualification
from harnessgym.artifacts.registry import ArtifactEntry, Registry
from harnessgym.artifacts.skills import check_skill
from harnessgym.store.layout import Layout


def skill(ws: Path, name: str, front: str = "name: {name}\ndescription: Does things.") -> ArtifactEntry:
    folder = ws / ".harnessgym" / "skills" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(f"---\n{front.format(name=name)}\n---\n# {name}\n")
    path = f".harnessgym/skills/{name}/SKILL.md"
    entry = ArtifactEntry(id=f"skill:{path}", kind="skill", path=path, state="active")
    trust_without_qualification(Layout(ws), [entry])  # as a passed qualification would record it
    return entry


@pytest.mark.parametrize(
    ("front", "problem"),
    [
        ("name: s\ndescription: ok", None),
        ("name: s\ndescription: >\n  folded\n  text", None),
        ("description: ok", "SKILL.md front matter has no 'name'"),
        ("name: s", "SKILL.md front matter has no 'description'"),
        (
            "name: s\ndescription: " + "d" * 1025,
            "SKILL.md description is 1025 characters; the CLIs accept at most 1024",
        ),
    ],
)
def test_skill_front_matter_is_checked_like_the_clis_do(tmp_path: Path, front: str, problem: str | None) -> None:
    entry = skill(tmp_path, "s", front)
    assert check_skill(tmp_path / entry.path) == problem


def test_links_follow_the_active_set(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    a, b = skill(tmp_path, "alpha"), skill(tmp_path, "beta")
    record = activate(layout, Registry(artifacts=[a, b]))
    assert sorted(s.name for s in record.skills) == ["alpha", "beta"]
    link = tmp_path / ".claude" / "skills" / "alpha"
    assert os.readlink(link) == "../../.harnessgym/skills/alpha" and (link / "SKILL.md").is_file()
    b.state = "quarantined"
    record = activate(layout, Registry(artifacts=[a, b]))
    assert record.quarantined == [b.id]
    for base in (".agents/skills", ".claude/skills"):
        assert (tmp_path / base / "alpha").is_symlink() and not (tmp_path / base / "beta").exists()


def test_a_real_folder_in_the_way_is_left_alone_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / ".claude" / "skills" / "alpha").mkdir(parents=True)
    record = activate(Layout(tmp_path), Registry(artifacts=[skill(tmp_path, "alpha")]))
    assert (tmp_path / ".claude" / "skills" / "alpha").is_dir() and not (tmp_path / ".claude/skills/alpha").is_symlink()
    assert (tmp_path / ".agents" / "skills" / "alpha").is_symlink()
    assert any("is not a link" in w for w in record.warnings)


def test_a_wrong_link_is_replaced_in_place(tmp_path: Path) -> None:
    link = tmp_path / ".agents" / "skills" / "alpha"
    link.parent.mkdir(parents=True)
    link.symlink_to("/nowhere")
    activate(Layout(tmp_path), Registry(artifacts=[skill(tmp_path, "alpha")]))
    assert os.readlink(link) == "../../.harnessgym/skills/alpha"
    assert [p.name for p in link.parent.iterdir()] == ["alpha"]
