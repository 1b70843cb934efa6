"""The clean copy qualification works in: an overlay of the template when root can mount one, else a copy.

Either way it is writable and never writes the template; a failed check keeps a real copy to look into; an
overlay a killed harnessgym left behind is unmounted by the next qualification, and nobody else's is touched.
The suite runs as root (CI too), where the overlay is what a qualification gets."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest

from harnessgym.store.overlay import MODE_ENV, open_clean_copy, overlays_below, sweep
from harnessgym.store.tree import same_tree
from mcp_host import run_process

pytestmark = pytest.mark.anyio

ROOT = os.geteuid() == 0


def _template(tmp_path: Path) -> Path:
    template = tmp_path / "runs" / "r1" / "template"
    (template / "sub").mkdir(parents=True)
    (template / "data.txt").write_text("original\n")
    (template / "sub" / "b.txt").write_text("b\n")
    (template / "link").symlink_to("data.txt")
    return template


def _identity(root: Path) -> dict[str, tuple[int, int, int, bytes]]:
    out = {}
    for path in sorted(root.rglob("*")):
        st = os.lstat(path)
        body = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        out[str(path.relative_to(root))] = (st.st_ino, st.st_size, st.st_mtime_ns, body)
    return out


async def test_writes_to_the_clean_copy_never_reach_the_template(tmp_path: Path) -> None:
    template = _template(tmp_path)
    before = _identity(template)
    dest = tmp_path / "runs" / "r1" / "qualification" / "workspace"
    with anyio.fail_after(30):
        clean = await open_clean_copy(template, dest, sweep_below=tmp_path)
        assert clean.mounted is ROOT and os.path.ismount(dest) is ROOT
        assert same_tree(template, dest)
        with open(dest / "data.txt", "r+") as fh:  # in place, as a careless self-test would
            fh.write("CHANGED!")
        (dest / "sub" / "b.txt").unlink()
        (dest / "new.txt").write_text("new\n")
        assert (dest / "data.txt").read_text().startswith("CHANGED!") and not (dest / "sub" / "b.txt").exists()
        await clean.close(keep=False)
    assert _identity(template) == before
    assert not dest.exists() and overlays_below(tmp_path) == []
    assert sorted(p.name for p in dest.parent.iterdir()) == []  # no layers left beside it


async def test_a_failed_check_keeps_a_real_copy_of_what_the_clean_copy_held(tmp_path: Path) -> None:
    template = _template(tmp_path)
    dest = tmp_path / "runs" / "r1" / "qualification" / "workspace"
    with anyio.fail_after(30):
        clean = await open_clean_copy(template, dest)
        (dest / "left-by-the-self-test.txt").write_text("look at me\n")
        await clean.close(keep=True)
    assert not os.path.ismount(dest) and dest.is_dir()
    assert (dest / "left-by-the-self-test.txt").read_text() == "look at me\n"
    assert (dest / "data.txt").read_text() == "original\n" and os.readlink(dest / "link") == "data.txt"
    assert not (template / "left-by-the-self-test.txt").exists()
    assert overlays_below(tmp_path) == []


async def test_an_overlay_left_by_a_killed_harnessgym_is_unmounted_and_nobody_elses(tmp_path: Path) -> None:
    template = _template(tmp_path)
    harness = tmp_path / ".harnessgym"
    left = harness / "runs" / "r1" / "qualification" / "attempt_1" / "workspace"
    with anyio.fail_after(60):
        await open_clean_copy(template, left)  # never closed: the process that opened it was killed
        foreign = harness / "someone-elses"  # an overlay whose layers are not ours, below the same folder
        if ROOT:
            for name in ("lower", "upper", "work", "merged"):
                (tmp_path / "foreign" / name).mkdir(parents=True)
            foreign.mkdir()
            options = ",".join(f"{k}dir={tmp_path / 'foreign' / k}" for k in ("lower", "upper", "work"))
            done = await run_process(["mount", "-t", "overlay", "overlay", "-o", options, str(foreign)], timeout=20)
            assert done.returncode == 0, done.stderr_tail
        try:
            assert overlays_below(harness) == ([left] if ROOT else [])
            (tmp_path / "via-a-link").symlink_to(harness)  # what a .harnessgym made a link resolves to is not swept
            assert overlays_below(tmp_path / "via-a-link") == []
            # the next qualification in this workspace sweeps before it opens its own
            dest = harness / "runs" / "r2" / "qualification" / "attempt_1" / "workspace"
            clean = await open_clean_copy(template, dest, sweep_below=harness)
            assert not os.path.ismount(left) and not left.exists()
            assert os.path.ismount(foreign) is ROOT
            await clean.close(keep=False)
            assert await sweep(harness) == []
        finally:
            if os.path.ismount(foreign):
                await run_process(["umount", str(foreign)], timeout=20)
    assert overlays_below(tmp_path) == []


async def test_no_overlay_through_a_link_and_none_when_a_copy_is_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = _template(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "runs" / "r1" / "qualification").symlink_to(elsewhere)  # the agent put a link in the way
    with anyio.fail_after(30):
        linked = await open_clean_copy(template, tmp_path / "runs" / "r1" / "qualification" / "workspace")
        assert not linked.mounted and same_tree(template, elsewhere / "workspace")
        await linked.close(keep=False)
        monkeypatch.setenv(MODE_ENV, "copy")
        copied = await open_clean_copy(template, tmp_path / "plain" / "workspace")
        assert not copied.mounted and same_tree(template, tmp_path / "plain" / "workspace")
        await copied.close(keep=False)
    assert not (tmp_path / "plain" / "workspace").exists() and overlays_below(tmp_path) == []
