"""Fast tree copies for harnessgym's own snapshots: one ``scandir`` pass, the kernel's copy path, hard links
where harnessgym owns both sides, and the workspace's ``.harnessgymignore``.

Why not ``shutil.copytree``: with an ``ignore`` callback that ``lstat``s every name it costs two to three
system calls more per file than this, and it cannot hard-link. What it must never do: follow a symlink (links
are copied as links), block on a FIFO or device (special files are skipped), or share an inode with a file
the agent may write: :func:`copy_tree` links only from a source that harnessgym itself wrote and keeps.

``.harnessgymignore`` (in the workspace root, optional) lists what harnessgym's copies of the workspace leave
out (the clean template, the task-state snapshot): one pattern a line, ``#`` comments, a pattern without ``/``
matches a name at any depth (``node_modules``, ``*.log``), a pattern with ``/`` matches a path from the
workspace root (``data/raw/*``), a trailing ``/`` matches folders only. Left-out paths are listed in the run's
``qualification/ignored.txt``, so nothing is dropped silently.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["IGNORE_FILE", "CopyStats", "IgnoreRules", "copy_tree", "read_ignore_rules"]

IGNORE_FILE = ".harnessgymignore"
MAX_IGNORE_BYTES = 64 * 1024
"""A larger ignore file is not read (it is agent-writable input, and a real one is a few lines)."""
MAX_LISTED = 1000
"""How many left-out paths a copy remembers for its listing."""

Skip = Callable[[str, list[str]], set[str]]
"""``(directory, names) -> names to leave out``, the shape of ``shutil.copytree``'s ``ignore``."""


@dataclass
class IgnoreRules:
    """The patterns of a ``.harnessgymignore``, as a ``Skip`` for copies rooted at ``root``."""

    root: str
    names: list[tuple[str, bool]] = field(default_factory=list)
    """(pattern, folders only) matched against a name at any depth."""
    paths: list[tuple[str, bool]] = field(default_factory=list)
    """(pattern, folders only) matched against the path from the root."""

    def __call__(self, directory: str, names: list[str]) -> set[str]:
        if not (self.names or self.paths):
            return set()
        rel = os.path.relpath(directory, self.root)
        out: set[str] = set()
        for name in names:
            path = name if rel == "." else f"{rel}/{name}"
            for pattern, dirs_only in self.names:
                if fnmatch.fnmatchcase(name, pattern) and (not dirs_only or _is_dir(directory, name)):
                    out.add(name)
            for pattern, dirs_only in self.paths:
                if fnmatch.fnmatchcase(path, pattern) and (not dirs_only or _is_dir(directory, name)):
                    out.add(name)
        return out


def _is_dir(directory: str, name: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(os.path.join(directory, name)).st_mode)
    except OSError:
        return False


def read_ignore_rules(workspace: Path) -> IgnoreRules:
    """The workspace's ``.harnessgymignore`` (none, unreadable, too large or not a regular file: no rules)."""
    rules = IgnoreRules(root=str(workspace))
    try:
        fd = os.open(workspace / IGNORE_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return rules
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_IGNORE_BYTES:
            return rules
        text = fh.read(MAX_IGNORE_BYTES).decode("utf-8", errors="replace")
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        dirs_only = line.endswith("/")
        pattern = line.rstrip("/").lstrip("/")
        if not pattern or pattern in {".", ".."}:
            continue
        (rules.paths if "/" in pattern else rules.names).append((pattern, dirs_only))
    return rules


@dataclass
class CopyStats:
    files: int = 0
    linked: int = 0
    bytes_copied: int = 0
    left_out: list[str] = field(default_factory=list)
    """Paths (from the source root) a skip rule left out, at most :data:`MAX_LISTED`."""


def copy_tree(
    src: Path,
    dst: Path,
    *,
    skip: Skip | None = None,
    link_from: Path | None = None,
    into_existing: bool = False,
    stats: CopyStats | None = None,
) -> CopyStats:
    """Copy ``src`` to a new ``dst``: folders, regular files (mode and mtime kept) and symlinks (as links).

    ``link_from``: a tree harnessgym owns that holds the same files (same relative path, size and mtime); such
    files are hard-linked from it instead of copied. ``into_existing``: ``dst`` may exist (its entries may not).
    Special files are skipped.
    """
    stats = stats if stats is not None else CopyStats()
    if into_existing:
        os.makedirs(dst, exist_ok=True)
    _copy_dir(str(src), str(dst), "", skip, str(link_from) if link_from else None, stats, made=into_existing)
    return stats


def _copy_dir(
    src: str, dst: str, rel: str, skip: Skip | None, link_from: str | None, stats: CopyStats, made: bool = False
) -> None:
    if not made:
        os.mkdir(dst)
    with os.scandir(src) as it:
        entries = list(it)
    left_out = skip(src, [e.name for e in entries]) if skip else set()
    for entry in entries:
        path = f"{rel}/{entry.name}" if rel else entry.name
        if entry.name in left_out:
            if len(stats.left_out) < MAX_LISTED:
                stats.left_out.append(path)
            continue
        target = os.path.join(dst, entry.name)
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(entry.path), target)
        elif stat.S_ISDIR(st.st_mode):
            _copy_dir(entry.path, target, path, skip, link_from and os.path.join(link_from, entry.name), stats)
            shutil.copystat(entry.path, target, follow_symlinks=False)
        elif stat.S_ISREG(st.st_mode):
            stats.files += 1
            if link_from and _same_file(os.path.join(link_from, entry.name), st):
                os.link(os.path.join(link_from, entry.name), target)
                stats.linked += 1
                continue
            _copy_file(entry.path, target, st)
            stats.bytes_copied += st.st_size
        # FIFOs, sockets and devices are left out: copying one blocks or fails


def _same_file(candidate: str, st: os.stat_result) -> bool:
    try:
        other = os.lstat(candidate)
    except OSError:
        return False
    return stat.S_ISREG(other.st_mode) and (other.st_size, other.st_mtime_ns) == (st.st_size, st.st_mtime_ns)


_FICLONE = 0x40049409
"""The Linux ioctl that makes ``dst`` share ``src``'s blocks copy-on-write (btrfs, XFS); ext4 refuses it."""
_no_reflink: set[int] = set()
"""Devices that refused a reflink once: not asked again in this process."""


def _copy_file(src: str, dst: str, st: os.stat_result) -> None:
    fd_in = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        fd_out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, stat.S_IMODE(st.st_mode) | 0o200)
        try:
            if not _reflink(fd_in, fd_out, st):
                _copy_bytes(fd_in, fd_out, st.st_size)
            os.fchmod(fd_out, stat.S_IMODE(st.st_mode))
            os.utime(fd_out, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)


def _reflink(fd_in: int, fd_out: int, st: os.stat_result) -> bool:
    if st.st_dev in _no_reflink or st.st_size == 0:
        return False
    import fcntl

    try:
        fcntl.ioctl(fd_out, _FICLONE, fd_in)
        return True
    except OSError:
        _no_reflink.add(st.st_dev)
        return False


def _copy_bytes(fd_in: int, fd_out: int, size: int) -> None:
    """In the kernel (``copy_file_range``), else through a buffer; stops early if the file shrank meanwhile."""
    left = size
    try:
        while left > 0:
            sent = os.copy_file_range(fd_in, fd_out, min(left, 1 << 30))
            if sent == 0:
                return
            left -= sent
    except OSError:  # not offered here (another filesystem, an old kernel): copy what is left by hand
        while left > 0 and (chunk := os.read(fd_in, min(left, 1 << 20))):
            os.write(fd_out, chunk)
            left -= len(chunk)
