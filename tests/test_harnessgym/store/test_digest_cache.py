"""Digests and the registry are read once per content, and a change is always noticed: the digest kept for an
artifact is keyed by what harnessgym measured of every file (inode, size, mtime, ctime), never by what the
workspace claims, and the registry is parsed again whenever its bytes differ."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from harnessgym import store
from harnessgym.artifacts.qualification import has_verdict, trust_without_qualification
from harnessgym.artifacts.registry import ArtifactEntry
from harnessgym.store import bundle
from harnessgym.store.layout import Layout


def _tool(ws: Path, text: str = "print(1)\n") -> ArtifactEntry:
    path = ws / ".harnessgym" / "tools" / "probe.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return ArtifactEntry(id="tool:.harnessgym/tools/probe.py", kind="tool", path=".harnessgym/tools/probe.py")


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    reads: list[Path] = []
    original = bundle._read_digest

    def counted(root: Path, files: list[Path]) -> str:
        reads.append(root)
        return original(root, files)

    monkeypatch.setattr(bundle, "_read_digest", counted)
    return reads


def test_an_unchanged_artifact_is_digested_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = _tool(tmp_path)
    time.sleep(0.25)  # older than a clock tick: its identity can be trusted to show a change
    reads = _count_reads(monkeypatch)
    layout = Layout(tmp_path)
    first = store.artifact_digest(layout, entry)
    assert all(store.artifact_digest(layout, entry) == first for _ in range(5))
    assert len(reads) == 1


def test_a_changed_artifact_is_noticed_even_with_its_size_and_mtime_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _tool(tmp_path)
    path = tmp_path / entry.path
    time.sleep(0.25)
    layout = Layout(tmp_path)
    trust_without_qualification(layout, [entry], "vouched for in a test")
    assert has_verdict(layout, entry) and has_verdict(layout, entry)
    before = path.stat()
    reads = _count_reads(monkeypatch)
    with open(path, "r+b") as fh:  # same inode, same size, another content
        fh.write(b"print(2)\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    assert not has_verdict(layout, entry)
    assert reads, "the changed file was read again"


def test_a_file_changed_within_a_clock_tick_of_its_digest_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _tool(tmp_path)  # written just now: too recent for its identity to be trusted
    reads = _count_reads(monkeypatch)
    layout = Layout(tmp_path)
    store.artifact_digest(layout, entry)
    store.artifact_digest(layout, entry)
    assert len(reads) == 2


def test_the_registry_is_parsed_once_per_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = Layout(tmp_path)
    layout.registry.parent.mkdir(parents=True)
    entries = [{"kind": "tool", "path": f".harnessgym/tools/t{i}.py"} for i in range(3)]
    layout.registry.write_text(json.dumps({"schema_version": 1, "artifacts": entries}))
    parses: list[int] = []
    original = bundle.parse_registry
    monkeypatch.setattr(bundle, "parse_registry", lambda *a: parses.append(1) or original(*a))
    first, _ = store.read_registry(layout)
    first.artifacts[0].state = "active"  # what a caller does with its copy changes nothing for the next
    second, _ = store.read_registry(layout)
    assert len(parses) == 1 and second.artifacts[0].state == "candidate" and len(second.artifacts) == 3
    stat = layout.registry.stat()
    layout.registry.write_text(json.dumps({"schema_version": 1, "artifacts": entries[:2]})[:-1] + " }")
    os.utime(layout.registry, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    third, _ = store.read_registry(layout)
    assert len(parses) == 2 and len(third.artifacts) == 2


def test_a_changed_server_file_is_noticed_even_with_its_size_and_mtime_put_back(tmp_path: Path) -> None:
    from harnessgym.artifacts import servers
    from mcp_host import VerdictStore

    folder = tmp_path / ".harnessgym" / "mcp" / "toy"
    folder.mkdir(parents=True)
    (folder / "server.py").write_text("print(1)\n")
    (folder / "harnessgym-mcp.json").write_text(json.dumps({"name": "toy", "command": "python3",
                                                            "args": [".harnessgym/mcp/toy/server.py"]}))  # fmt: skip
    entry = ArtifactEntry(id="mcp:toy", kind="mcp", path=".harnessgym/mcp/toy/harnessgym-mcp.json")
    time.sleep(0.25)
    verdicts = VerdictStore(tmp_path)
    servers.trust_server(tmp_path, entry, verdicts, "vouched for in a test")
    assert servers.server_passed(tmp_path, entry, verdicts) and servers.server_passed(tmp_path, entry, verdicts)
    assert any(key[:2] == (tmp_path, entry.path) for key in servers._LOADED)  # the load was kept
    path = folder / "server.py"
    before = path.stat()
    with open(path, "r+b") as fh:
        fh.write(b"print(2)\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not servers.server_passed(tmp_path, entry, verdicts)


def test_a_kept_digest_is_not_used_once_its_folder_leads_outside(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    entry = _tool(ws)
    time.sleep(0.25)
    layout = Layout(ws)
    assert store.artifact_digest(layout, entry) is not None
    assert store.artifact_digest(layout, entry) is not None  # kept
    tools = ws / ".harnessgym" / "tools"
    outside = tmp_path / "elsewhere"
    tools.rename(outside)  # the same file (inode, ctime) now lives outside, reached through a link
    tools.symlink_to(outside, target_is_directory=True)
    assert store.artifact_digest(layout, entry) is None
