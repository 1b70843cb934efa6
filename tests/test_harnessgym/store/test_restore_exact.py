"""Restore-best restores exactly (issue 10, item 7): after a restore the workspace outside ``.harnessgym`` equals
the best snapshot (every file, symlink as a link, empty folder and mode; nothing added, nothing lost), checked
over generated trees with odd names, ``.so``/``.dylib`` files at any depth, and a sparse file of 2 GiB."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harnessgym import store

NAME_CHARS = st.sampled_from([*"abcXYZ019 -_.,'\"*?[]{}$#%&!~=+@", "\n", "\t", "é", "日", "\u202e", "\\"])
NAMES = st.text(NAME_CHARS, min_size=1, max_size=12).filter(lambda n: n not in (".", "..") and "/" not in n)
SUFFIXES = st.sampled_from(["", ".py", ".so", ".dylib", ".o", ".pyc", ".txt"])
FILE_MODES = st.sampled_from([0o644, 0o600, 0o755, 0o444, 0o700, 0o640])
DIR_MODES = st.sampled_from([0o755, 0o700, 0o555, 0o750])


def _tree(depth: int) -> st.SearchStrategy[dict[str, object]]:
    file = st.tuples(st.just("file"), st.binary(max_size=300), FILE_MODES)
    link = st.tuples(st.just("link"), st.sampled_from(["target", "../up", "/abs/nowhere", "a b/c", "x\ny"]))
    leaf = st.one_of(file, link)
    if depth == 0:
        children: st.SearchStrategy[object] = leaf
    else:
        children = st.one_of(leaf, st.tuples(st.just("dir"), _tree(depth - 1), DIR_MODES))
    return st.dictionaries(st.tuples(NAMES, SUFFIXES).map("".join), children, max_size=5)


def build(root: Path, spec: dict[str, object]) -> None:
    """Make ``spec`` under ``root``; folder modes are set last, deepest first."""
    modes: list[tuple[Path, int]] = []

    def make(here: Path, node: dict[str, object]) -> None:
        for name, child in node.items():
            path = here / name
            kind = child[0]  # type: ignore[index]
            if kind == "file":
                path.write_bytes(child[1])  # type: ignore[index]
                path.chmod(child[2])  # type: ignore[index]
            elif kind == "link":
                path.symlink_to(child[1])  # type: ignore[index]
            else:
                path.mkdir()
                make(path, child[1])  # type: ignore[index]
                modes.append((path, child[2]))  # type: ignore[index]

    make(root, spec)
    for path, mode in modes:
        path.chmod(mode)


def picture(root: Path) -> dict[str, tuple[str, int, bytes | str]]:
    """An independent view of a tree (not the code under test): kind, mode and bytes or link target."""
    seen: dict[str, tuple[str, int, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        for name in dirnames + filenames:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if rel.split(os.sep)[0] == ".harnessgym":
                continue
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                seen[rel] = ("link", 0, os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                seen[rel] = ("dir", stat.S_IMODE(info.st_mode), b"")
            else:
                with open(path, "rb") as fh:
                    seen[rel] = ("file", stat.S_IMODE(info.st_mode), fh.read())
    return seen


def writable(root: Path, *, harness: bool = True) -> None:
    for dirpath, dirnames, _ in os.walk(root):
        if not harness and dirpath == str(root):
            dirnames.remove(".harnessgym")
        for name in dirnames:
            path = Path(dirpath, name)
            if not path.is_symlink():
                path.chmod(0o755)


def vandalize(ws: Path) -> None:
    """What a bad last iteration does: change, add and remove things everywhere outside .harnessgym."""
    writable(ws, harness=False)
    for path in sorted(ws.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.parts[len(ws.parts)] == ".harnessgym":
            continue
        if path.is_symlink() or path.is_file():
            path.unlink()
    (ws / "added.txt").write_text("not in the snapshot")
    (ws / "new" / "deep").mkdir(parents=True)
    (ws / "new" / "deep" / "lib.so").write_bytes(b"\x7fELF")


def checkpoint_and_restore(ws: Path) -> None:
    layout = store.ensure_workspace(ws)
    store.save_best_checkpoint(layout, "r", 1, 1.0)
    before = picture(ws)
    assert store.workspace_matches_checkpoint(layout, "r")
    vandalize(ws)
    assert not store.workspace_matches_checkpoint(layout, "r")
    marker = layout.root / "keep.txt"
    marker.write_text("harness state")
    store.restore_best_checkpoint(layout, "r")
    assert picture(ws) == before
    assert store.workspace_matches_checkpoint(layout, "r")
    assert marker.read_text() == "harness state"  # .harnessgym is left alone


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=_tree(3))
def test_restore_gives_back_exactly_the_snapshot_of_any_tree(tmp_path_factory: object, spec: dict[str, object]) -> None:
    ws = tmp_path_factory.mktemp("ws")  # type: ignore[attr-defined]
    build(ws, spec)
    checkpoint_and_restore(ws)
    writable(ws)


def test_binaries_agent_folders_empty_folders_and_modes_survive(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    build(ws.parent, {"ws": ("dir", {}, 0o755)})
    build(ws, {
        "lib": ("dir", {"prebuilt.so": ("file", b"\x7fELF so", 0o755)}, 0o755),
        "deep": ("dir", {"a": ("dir", {"b": ("dir", {"data.dylib": ("file", b"dylib", 0o644)}, 0o755)}, 0o755)},
                 0o755),
        "empty": ("dir", {}, 0o700),
        "ro": ("dir", {"frozen.txt": ("file", b"x", 0o444)}, 0o555),
        ".git": ("dir", {"HEAD": ("file", b"ref: refs/heads/main\n", 0o644)}, 0o755),
        ".claude": ("dir", {"settings.json": ("file", b"{}", 0o600)}, 0o755),
        "link-to-dir": ("link", "lib"), "dangling": ("link", "../../nowhere"),
        "run.sh": ("file", b"#!/bin/sh\n", 0o755), "main.o": ("file", b"obj", 0o644),
    })  # fmt: skip
    checkpoint_and_restore(ws)
    assert (ws / "lib" / "prebuilt.so").read_bytes() == b"\x7fELF so"
    assert (ws / "deep/a/b/data.dylib").read_bytes() == b"dylib"
    assert (ws / "link-to-dir").is_symlink() and os.readlink(ws / "link-to-dir") == "lib"
    writable(ws)


def test_a_sparse_file_of_two_gib_is_kept_whole_without_being_written_out(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    big = ws / "weights.bin"
    size = 2 << 30
    with open(big, "wb") as fh:
        fh.write(b"head")
        fh.seek(size - 4)
        fh.write(b"tail")
    sparse = os.stat(big).st_blocks * 512 < size // 2
    layout = store.ensure_workspace(ws)
    store.save_best_checkpoint(layout, "r", 1, 1.0)
    copy = layout.run("r").best_checkpoint / "workspace" / "weights.bin"
    big.unlink()
    store.restore_best_checkpoint(layout, "r")
    assert big.stat().st_size == size
    with open(big, "rb") as fh:
        assert fh.read(4) == b"head"
        fh.seek(size - 4)
        assert fh.read(4) == b"tail"
    if sparse:  # the file system keeps holes: so must the copies (no 2 GiB of zeros written out)
        assert copy.stat().st_blocks * 512 < size // 2 and big.stat().st_blocks * 512 < size // 2
    assert store.workspace_matches_checkpoint(layout, "r")
