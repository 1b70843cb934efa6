"""Exact copies of a folder tree: every regular file (contents, mode, times; holes stay holes), symlink (as a
link, never followed), folder (empty ones too, with its mode), whatever its name holds.

The best-workspace checkpoint is built on these: a snapshot is the workspace minus its top-level
``.harnessgym``, and a restore clears the workspace (``.harnessgym`` kept) and copies the snapshot back, so
afterwards the two trees are equal (:func:`same_tree`): nothing added, nothing lost. FIFOs, sockets and devices
cannot be copied and are left out of a snapshot (and, being no files, out of the comparison).

Only regular files are opened, never through a link, so a snapshot the agent forged can neither make a copy
read a FIFO nor write through a symlink: the destination is cleared first and every folder in it is made here.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["TreeEntry", "clear_tree", "copy_tree", "same_tree", "tree_entries"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class TreeEntry:
    """What :func:`same_tree` compares of one entry, besides a file's bytes."""

    kind: Literal["file", "dir", "link"]
    mode: int
    """Permission bits (links have none worth comparing: 0)."""
    size: int = 0
    target: str = ""
    """A link's target, as written."""


def _scan(root: Path, rel: str, skip_top: Collection[str]) -> Iterator[tuple[str, os.DirEntry[str]]]:
    with os.scandir(root / rel if rel else root) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if not rel and entry.name in skip_top:
                continue
            yield (f"{rel}/{entry.name}" if rel else entry.name), entry


def tree_entries(root: Path, skip_top: Collection[str] = ()) -> dict[str, TreeEntry]:
    """Every file, link and folder under ``root`` by relative path (sorted), but the top-level ``skip_top``."""
    found: dict[str, TreeEntry] = {}
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        for rel, entry in _scan(root, rel_dir, skip_top):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                found[rel] = TreeEntry("link", 0, target=os.readlink(entry.path))
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = TreeEntry("dir", stat.S_IMODE(st.st_mode))
                pending.append(rel)
            elif stat.S_ISREG(st.st_mode):
                found[rel] = TreeEntry("file", stat.S_IMODE(st.st_mode), size=st.st_size)
    return dict(sorted(found.items()))


def _copy_range(src: int, dst: int, start: int, end: int) -> None:
    offset = start
    while offset < end:
        try:
            done = os.copy_file_range(src, dst, min(_CHUNK * 64, end - offset), offset, offset)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
            done = 0
        if done == 0:  # not supported here (or a file that shrank under us): plain reads and writes
            data = os.pread(src, min(_CHUNK, end - offset), offset)
            if not data:
                return
            done = os.pwrite(dst, data, offset)
        offset += done


def _data_ranges(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """The parts of a file that hold data; a hole (a sparse file's unwritten range) is skipped."""
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole is left
                return
            yield pos, size  # the file system cannot tell: copy all of it
            return
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, end
        pos = end


def _copy_file(src: Path, dst: Path) -> None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
    fd_in = os.open(src, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd_in).st_mode):  # swapped for a FIFO or device since it was listed
            return
        fd_out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            size = os.fstat(fd_in).st_size
            for start, end in _data_ranges(fd_in, size):
                _copy_range(fd_in, fd_out, start, end)
            os.ftruncate(fd_out, size)
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)
    shutil.copystat(src, dst, follow_symlinks=False)


def copy_tree(src: Path, dst: Path, skip_top: Collection[str] = ()) -> int:
    """Copy ``src`` into ``dst`` exactly (``dst`` may exist, but must not hold the entries); returns the number
    of files and links copied. Folder modes are set after their contents, so a read-only folder is copied too."""
    dst.mkdir(parents=True, exist_ok=True)
    count = 0
    dirs: list[tuple[Path, Path]] = []
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        for rel, entry in _scan(src, rel_dir, skip_top):
            here, there = Path(entry.path), dst / rel
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                os.symlink(os.readlink(here), there)
                count += 1
            elif stat.S_ISDIR(mode):
                there.mkdir()
                dirs.append((here, there))
                pending.append(rel)
            elif stat.S_ISREG(mode):
                _copy_file(here, there)
                count += 1
    for here, there in reversed(dirs):  # deepest first, so a read-only parent is closed last
        shutil.copystat(here, there, follow_symlinks=False)
    return count


def _writable_again(_function: object, path: str, _exc: object) -> None:
    """rmtree's error hook: a read-only folder cannot lose its entries until it is writable again."""
    parent = os.path.dirname(path)
    os.chmod(parent, stat.S_IMODE(os.lstat(parent).st_mode) | stat.S_IRWXU)
    if os.path.isdir(path) and not os.path.islink(path):
        os.chmod(path, stat.S_IMODE(os.lstat(path).st_mode) | stat.S_IRWXU)
        shutil.rmtree(path, onerror=_writable_again)
    else:
        os.unlink(path)


def clear_tree(root: Path, keep_top: Collection[str] = ()) -> None:
    """Remove everything under ``root`` but the top-level ``keep_top`` (links are removed, never followed)."""
    for entry in list(os.scandir(root)):
        if entry.name in keep_top:
            continue
        if entry.is_dir(follow_symlinks=False):
            os.chmod(entry.path, stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode) | stat.S_IRWXU)
            shutil.rmtree(entry.path, onerror=_writable_again)
        else:
            os.unlink(entry.path)


def _same_bytes(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            chunk = fa.read(_CHUNK)
            if chunk != fb.read(_CHUNK):
                return False
            if not chunk:
                return True


def same_tree(a: Path, b: Path, skip_top: Collection[str] = ()) -> bool:
    """Whether the two trees hold the same entries, kinds, modes, link targets and file bytes."""
    left, right = tree_entries(a, skip_top), tree_entries(b, skip_top)
    if left != right:
        return False
    return all(_same_bytes(a / rel, b / rel) for rel, entry in left.items() if entry.kind == "file")
