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
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["CopyStats", "TreeEntry", "clear_tree", "copy_tree", "same_tree", "tree_entries"]

_CHUNK = 1 << 20
MAX_LISTED = 1000
"""How many left-out paths a copy remembers for its listing."""
_FICLONE = 0x40049409
"""The Linux ioctl that makes a file share another's blocks copy-on-write (btrfs, XFS); ext4 refuses it."""
_no_reflink: set[int] = set()
"""Devices that refused a reflink once: not asked again in this process."""


@dataclass
class CopyStats:
    """What a :func:`copy_tree` did."""

    copied: int = 0
    """Files and links copied (or linked)."""
    linked: int = 0
    """Files hard-linked from ``link_from`` instead of copied."""
    left_out: list[str] = field(default_factory=list)
    """Paths a ``skip`` rule left out, at most :data:`MAX_LISTED`."""


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


def _reflink(fd_in: int, fd_out: int, st: os.stat_result) -> bool:
    """Share the blocks copy-on-write where the file system can (nothing is shared once either side writes)."""
    if st.st_dev in _no_reflink or st.st_size == 0:
        return False
    import fcntl

    try:
        fcntl.ioctl(fd_out, _FICLONE, fd_in)
        return True
    except OSError:
        _no_reflink.add(st.st_dev)
        return False


def _copy_file(src: Path, dst: Path) -> None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
    fd_in = os.open(src, flags)
    try:
        st = os.fstat(fd_in)
        if not stat.S_ISREG(st.st_mode):  # swapped for a FIFO or device since it was listed
            return
        fd_out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            size = st.st_size
            if not _reflink(fd_in, fd_out, st):
                for start, end in _data_ranges(fd_in, size):
                    _copy_range(fd_in, fd_out, start, end)
                os.ftruncate(fd_out, size)
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)
    shutil.copystat(src, dst, follow_symlinks=False)


def copy_tree(
    src: Path,
    dst: Path,
    skip_top: Collection[str] = (),
    *,
    skip: Callable[[str, list[str]], set[str]] | None = None,
    link_from: Path | None = None,
    stats: CopyStats | None = None,
) -> int:
    """Copy ``src`` into ``dst`` exactly (``dst`` may exist, but must not hold the entries); returns the number
    of files and links copied. Folder modes are set after their contents, so a read-only folder is copied too.

    ``skip``: ``(folder, names) -> names to leave out`` at any depth (as ``shutil.copytree``'s ``ignore``);
    what it leaves out is listed in ``stats``. ``link_from``: a tree harnessgym itself wrote and keeps that holds
    some of the same files (same relative path, size and modification time); those are hard-linked from it
    instead of copied. Never pass a tree the agent writes (a workspace, a clean copy) as ``link_from``.
    """
    stats = stats if stats is not None else CopyStats()
    dst.mkdir(parents=True, exist_ok=True)
    dirs: list[tuple[Path, Path]] = []
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        listed = list(_scan(src, rel_dir, skip_top))
        left_out = skip(str(src / rel_dir) if rel_dir else str(src), [e.name for _, e in listed]) if skip else set()
        for rel, entry in listed:
            if entry.name in left_out:
                if len(stats.left_out) < MAX_LISTED:
                    stats.left_out.append(rel)
                continue
            here, there = Path(entry.path), dst / rel
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(here), there)
                stats.copied += 1
            elif stat.S_ISDIR(st.st_mode):
                there.mkdir()
                dirs.append((here, there))
                pending.append(rel)
            elif stat.S_ISREG(st.st_mode):
                if link_from is not None and _same_file(link_from / rel, st):
                    os.link(link_from / rel, there)
                    stats.linked += 1
                else:
                    _copy_file(here, there)
                stats.copied += 1
    for here, there in reversed(dirs):  # deepest first, so a read-only parent is closed last
        shutil.copystat(here, there, follow_symlinks=False)
    return stats.copied


def _same_file(candidate: Path, st: os.stat_result) -> bool:
    try:
        other = os.lstat(candidate)
    except OSError:
        return False
    return stat.S_ISREG(other.st_mode) and (other.st_size, other.st_mtime_ns) == (st.st_size, st.st_mtime_ns)


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
