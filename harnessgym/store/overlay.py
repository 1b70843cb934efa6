"""The clean copy qualification works in, as an overlay of the run's template where the machine allows one.

A clean copy must be writable (self-tests and servers are agent code and may write anywhere in it) and must
never share a writable file with the template, which later qualifications copy again. Copying the template
costs as much as the workspace is big. An overlay mount (``mount -t overlay``: the template as its read-only
lower layer, an empty upper layer that takes every write, delete and rename) gives the same view at once, and
the template is never written. Linux gives it to root; elsewhere (not root, no overlay support, a path the
mount options cannot carry, an upper layer on a file system overlay cannot write to) the copy is made as
before. ``HARNESSGYM_CLEAN_COPY=copy`` asks for the copy.

The mount is in the machine's mount table, so a harnessgym killed outright leaves it behind. The next
qualification in that workspace unmounts every overlay found below the workspace's ``.harnessgym`` first
(:func:`sweep`). A clean copy kept to look into a failure is a real copy, made before the unmount.

No library offers overlay mounts from Python (the standard library has no ``mount``), so this runs
``mount(8)`` and ``umount(8)`` from util-linux through :func:`mcp_host.run_process`.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from harnessgym.store.tree import copy_tree
from mcp_host import run_process

__all__ = ["MODE_ENV", "CleanCopy", "open_clean_copy", "overlays_below", "sweep"]

MODE_ENV = "HARNESSGYM_CLEAN_COPY"
"""``copy`` makes every clean copy a plain copy; anything else (or unset) tries an overlay first."""
_UNSAFE = frozenset(",:\\\n\t ")
"""Characters the overlay options cannot carry in a path (separators of options and of lower layers)."""
_MOUNT_SECONDS = 30.0


def _layers(path: Path) -> Path:
    """Where the overlay at ``path`` keeps its upper and work layers: a hidden sibling."""
    return path.with_name(f".{path.name}.layers")


class CleanCopy:
    """A writable view of a template at ``path``: an overlay (``mounted``) or a plain copy."""

    def __init__(self, path: Path, mounted: bool) -> None:
        self.path = path
        self.mounted = mounted

    async def close(self, *, keep: bool) -> None:
        """Unmount and remove it; with ``keep``, leave a real copy of what it held at ``path``."""
        if not self.mounted:
            if not keep:
                shutil.rmtree(self.path, ignore_errors=True)
            return
        kept = self.path.with_name(f"{self.path.name}.kept")
        if keep:
            shutil.rmtree(kept, ignore_errors=True)
            copy_tree(self.path, kept)
        await _unmount(self.path)
        self.mounted = False
        if os.path.ismount(self.path):
            return  # still mounted: left to the next sweep, and never deleted through
        shutil.rmtree(_layers(self.path), ignore_errors=True)
        shutil.rmtree(self.path, ignore_errors=True)
        if keep:
            os.replace(kept, self.path)


async def open_clean_copy(template: Path, dest: Path, *, sweep_below: Path | None = None) -> CleanCopy:
    """A writable view of ``template`` at ``dest`` (replaced if it exists): an overlay when this machine mounts
    one, else a copy. ``sweep_below``: first unmount the overlays a killed harnessgym left there."""
    if sweep_below is not None:
        await sweep(sweep_below)
    if dest.is_dir() and not dest.is_symlink():
        shutil.rmtree(dest)
    elif dest.exists() or dest.is_symlink():
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    if await _mount(template, dest):
        return CleanCopy(dest, mounted=True)
    copy_tree(template, dest)
    return CleanCopy(dest, mounted=False)


def _plain(path: Path) -> str | None:
    """``path`` in full when no link is on the way to it and overlay options can carry it, else None: a mount
    goes exactly where it was meant to, never through a link the agent put in its folder."""
    full = os.path.abspath(path)
    if os.path.realpath(full) != full or any(c in _UNSAFE for c in full):
        return None
    return full


_refused = False
"""This machine refused an overlay mount once (a container without the capability, a kernel without overlay):
not asked again in this process."""


async def _mount(template: Path, dest: Path) -> bool:
    global _refused
    if os.environ.get(MODE_ENV) == "copy" or os.geteuid() != 0 or _refused or shutil.which("mount") is None:
        return False
    lower, folder = _plain(template), _plain(dest.parent)
    if lower is None or folder is None or not os.path.isdir(lower) or any(c in _UNSAFE for c in dest.name):
        return False
    target = os.path.join(folder, dest.name)
    layers = _layers(Path(target))
    shutil.rmtree(layers, ignore_errors=True)
    (layers / "upper").mkdir(parents=True)
    (layers / "work").mkdir()
    dest.mkdir()
    options = f"lowerdir={lower},upperdir={layers / 'upper'},workdir={layers / 'work'}"
    done = await run_process(["mount", "-t", "overlay", "overlay", "-o", options, target], timeout=_MOUNT_SECONDS)
    if done.returncode == 0 and os.path.ismount(target):
        return True
    _refused = True
    shutil.rmtree(layers, ignore_errors=True)
    os.rmdir(dest)
    return False


async def _unmount(path: Path) -> None:
    done = await run_process(["umount", str(path)], timeout=_MOUNT_SECONDS)
    if done.returncode != 0 and os.path.ismount(path):  # busy (a process a self-test left): detach it lazily
        await run_process(["umount", "--lazy", str(path)], timeout=_MOUNT_SECONDS)


def _unescape(field: str) -> str:
    """A mountinfo field: space, tab, newline and backslash are written as ``\\ooo``."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def overlays_below(root: Path) -> list[Path]:
    """harnessgym's own overlay mounts below ``root``, deepest first (from ``/proc/self/mountinfo``): an overlay
    whose upper layer is the ``.NAME.layers/upper`` beside its mount point, and nothing else, whatever ``root``
    resolves to."""
    plain = _plain(root)
    if plain is None:
        return []  # a link on the way: it could name any folder of the machine, so nothing is swept there
    try:
        text = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return []
    top = plain.rstrip("/") + "/"
    found = []
    for line in text.splitlines():
        head, sep, tail = line.partition(" - ")
        fields, rest = head.split(" "), tail.split(" ")
        if not sep or len(fields) < 5 or len(rest) < 3 or rest[0] != "overlay":
            continue
        point = Path(_unescape(fields[4]))
        options = dict(o.partition("=")[::2] for o in rest[2].split(","))
        if str(point).startswith(top) and _unescape(options.get("upperdir", "")) == str(_layers(point) / "upper"):
            found.append(point)
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


async def sweep(root: Path) -> list[Path]:
    """Unmount harnessgym's overlays below ``root`` (clean copies of a harnessgym that was killed) and remove
    their layers and mount points; returns the mount points it found."""
    found = overlays_below(root)
    for point in found:
        await _unmount(point)
        if not os.path.ismount(point):
            shutil.rmtree(_layers(point), ignore_errors=True)
            shutil.rmtree(point, ignore_errors=True)
    return found
