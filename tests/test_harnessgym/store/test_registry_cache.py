"""A registry harnessgym writes is remembered as written, so the next phase's read does not parse it again; that
shortcut must give exactly what a fresh parse of the file gives, entries and problems alike, whatever the
registry held (ids twice, empty strings, odd paths, a qualification kept in the metadata)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harnessgym import store
from harnessgym.artifacts.registry import ArtifactEntry, QualificationNote, Registry
from harnessgym.store import bundle
from harnessgym.store.layout import Layout

_PATHS = st.sampled_from(
    [".harnessgym/tools/a.py", ".harnessgym/tools/b.py", "tools//c.py", "./d.py", "a/../e.py", " f.py", "g.py ",
     ".harnessgym/skills/s/SKILL.md", "x" * 70 + "/h.py", "/abs/i.py", "j\0.py", ".harnessgym/tools/a.py/"]
)  # fmt: skip
_TEXT = st.one_of(st.none(), st.just(""), st.sampled_from(["2026-12-07T00:00:00+00:00", "why"]))


@st.composite
def _entries(draw: st.DrawFn) -> ArtifactEntry:
    path = draw(_PATHS)
    kind = draw(st.sampled_from(["tool", "skill", "docs"]))
    metadata: dict[str, object] = draw(st.sampled_from([{}, {"source": "discovered"}, {"qualification": {"x": 1}}]))
    return ArtifactEntry.model_validate(
        {
            "id": draw(st.sampled_from(["", f"{kind}:{path}", "same-id"])),
            "kind": kind,
            "path": path,
            "description": draw(st.sampled_from(["", "a tool"])),
            "iteration": draw(st.sampled_from([None, 0, 3])),
            "created_at": draw(_TEXT),
            "state": draw(st.sampled_from(["candidate", "qualified", "active", "quarantined"])),
            "quarantine_reason": draw(_TEXT),
            "qualification": draw(st.sampled_from([None, QualificationNote(status="passed", iteration=1)])),
            "digest": draw(st.sampled_from([None, "ab" * 32])),
            "metadata": metadata,
        }
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(_entries(), max_size=5))
def test_the_remembered_registry_is_what_a_fresh_parse_reads(entries: list[ArtifactEntry]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        layout = Layout(Path(tmp))
        layout.root.mkdir()
        store.write_registry(layout, Registry(artifacts=entries, metadata={"note": "kept"}))
        remembered = store.read_registry(layout)
        bundle._PARSED.clear()
        parsed = store.read_registry(layout)
        assert remembered[0] == parsed[0]
        assert remembered[1] == parsed[1]


def test_a_write_of_a_plain_registry_is_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = Layout(tmp_path)
    layout.root.mkdir()
    entry = ArtifactEntry(id="tool:t.py", kind="tool", path="t.py", state="active")
    store.write_registry(layout, Registry(artifacts=[entry]))
    calls: list[object] = []
    original = bundle.parse_registry
    monkeypatch.setattr(bundle, "parse_registry", lambda data, ws: (calls.append(data), original(data, ws))[1])
    registry, problems = store.read_registry(layout)
    assert [e.id for e in registry.artifacts] == ["tool:t.py"] and problems == [] and calls == []
    # what the agent writes next is parsed, never taken from what harnessgym remembered
    layout.registry.write_text(json.dumps({"schema_version": 1, "artifacts": [{"kind": "tool", "path": "u.py"}]}))
    registry, _ = store.read_registry(layout)
    assert [e.id for e in registry.artifacts] == ["tool:u.py"] and len(calls) == 1
