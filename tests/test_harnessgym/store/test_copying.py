"""harnessgym's own copies of a workspace: faithful, fast paths that never share an inode the agent writes, and
the workspace's ``.harnessgymignore``."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from support.loop import VERIFY, config, example_workspace, record, result, run_bounded, script, step

from harnessgym import store
from harnessgym.artifacts.registry import QualificationReport
from harnessgym.store.ignore import read_ignore_rules
from harnessgym.store.layout import Layout
from harnessgym.store.tree import CopyStats, copy_tree

pytestmark = pytest.mark.anyio


def _tree(root: Path) -> dict[str, tuple[str, int, object]]:
    """Every entry below ``root``: kind, permission bits, and content (file bytes, link target)."""
    out: dict[str, tuple[str, int, object]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            st = path.lstat()
            rel = path.relative_to(root).as_posix()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), None)
            elif not stat.S_ISREG(st.st_mode):
                out[rel] = ("special", 0, None)  # never opened: reading a FIFO blocks
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), (path.read_bytes(), st.st_mtime_ns))
    return out


def test_a_copy_keeps_files_modes_times_links_and_empty_folders_and_skips_fifos(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "deep" / "er").mkdir(parents=True)
    (src / "empty").mkdir()
    (src / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (src / "run.sh").chmod(0o755)
    (src / "deep" / "er" / "data.bin").write_bytes(os.urandom(3 << 20))
    (src / "ro.txt").write_text("read only")
    (src / "ro.txt").chmod(0o444)
    (src / "link").symlink_to("deep/er/data.bin")
    (src / "dangling").symlink_to("/nowhere/at/all")
    os.mkfifo(src / "pipe")
    stats = CopyStats()
    copied = copy_tree(src, tmp_path / "dst", stats=stats)
    expected = {k: v for k, v in _tree(src).items() if k != "pipe"}
    assert _tree(tmp_path / "dst") == expected
    assert (copied, stats.linked) == (5, 0)  # three files and two links
    assert os.lstat(src / "run.sh").st_ino != os.lstat(tmp_path / "dst" / "run.sh").st_ino


def test_harnessgymignore_leaves_out_names_paths_and_folders_and_lists_them(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    (ws / "node_modules" / "x").mkdir(parents=True)
    (ws / "node_modules" / "x" / "big.js").write_text("//")
    (ws / "logs").mkdir()
    (ws / "logs" / "a.log").write_text("log")
    (ws / "keep.log").write_text("kept: the rule names the folder only")
    (ws / "data" / "raw").mkdir(parents=True)
    (ws / "data" / "raw" / "r.csv").write_text("1")
    (ws / "data" / "used.csv").write_text("2")
    (ws / ".harnessgymignore").write_text("# big things\nnode_modules\nlogs/\ndata/raw/*\n\n")
    layout = store.ensure_workspace(ws)
    template = store.capture_template(layout, "r1")
    assert not (template / "node_modules").exists() and not (template / "logs").exists()
    assert (template / "keep.log").exists() and (template / "data" / "used.csv").exists()
    assert not (template / "data" / "raw" / "r.csv").exists()
    listed = set(template.with_name("ignored.txt").read_text().split())
    assert {"node_modules", "logs", "data/raw/r.csv"} <= listed


def test_an_ignore_file_that_is_a_fifo_a_link_or_huge_is_not_read(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    os.mkfifo(ws / ".harnessgymignore")  # opening it must not block
    assert read_ignore_rules(ws).names == []
    os.unlink(ws / ".harnessgymignore")
    (tmp_path / "elsewhere").write_text("*\n")
    (ws / ".harnessgymignore").symlink_to(tmp_path / "elsewhere")
    assert read_ignore_rules(ws).names == []
    os.unlink(ws / ".harnessgymignore")
    (ws / ".harnessgymignore").write_text("*\n" * 100_000)
    assert read_ignore_rules(ws).names == []


def test_the_task_state_snapshot_shares_the_templates_files_and_restoring_copies_them_out(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    layout = store.ensure_workspace(ws)
    template = store.capture_template(layout, "r1")
    store.snapshot_task_state(layout, link_from=template)
    linked = Layout(ws).task_state / "numerics.py"
    assert os.lstat(linked).st_ino == os.lstat(template / "numerics.py").st_ino
    before = (ws / "numerics.py").read_text()
    (ws / "numerics.py").write_text("broken by the agent\n")
    store.restore_task_state(layout)
    assert (ws / "numerics.py").read_text() == before
    assert os.lstat(ws / "numerics.py").st_ino != os.lstat(linked).st_ino  # the agent writes the restored file
    (ws / "numerics.py").write_text("written in place after the restore\n")
    assert linked.read_text() == before


async def test_a_verifier_reading_a_large_data_file_finds_it_in_the_clean_copy(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    data = os.urandom(8 << 20)
    (ws / "dataset.bin").write_bytes(data)
    digest = __import__("hashlib").sha256(data).hexdigest()
    checker = f"import hashlib; assert hashlib.sha256(open('dataset.bin','rb').read()).hexdigest() == {digest!r}"
    (ws / "check_data.py").write_text(checker + "\n")
    tool = {"do": "tool", "name": "datacheck", "description": "checks the data", "self_test": "python check_data.py"}
    fake = script(tmp_path, step("attempt", result(status="incomplete")),
                  step("build", tool, result(status="tooling_built")))  # fmt: skip
    summary = await run_bounded(config(ws, tmp_path, fake, iterations=1, build_after_solve=True,
                                       verify_command=VERIFY))  # fmt: skip
    rec = record(ws, summary.run_id, 1)
    assert rec.qualification_status == "passed" and rec.qualification_report is not None
    report = QualificationReport.model_validate_json(Path(ws, rec.qualification_report).read_text())
    assert [(v.artifact_id, v.status) for v in report.artifacts] == [("tool:.harnessgym/tools/datacheck.py", "passed")]
    # a passed qualification leaves no clean copy behind (a failed one keeps it, to look into)
    assert report.fresh_workspace is None
    assert not any(Path(ws, ".harnessgym", "runs", summary.run_id).glob("iterations/1/qualification/*/workspace"))
