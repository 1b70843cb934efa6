"""The workspace's ``.harnessgymignore``: what harnessgym's own copies of a workspace leave out.

``.harnessgymignore`` (in the workspace root, optional) lists what harnessgym's copies of the workspace leave
out (the clean template, the task-state snapshot): one pattern a line, ``#`` comments, a pattern without ``/``
matches a name at any depth (``node_modules``, ``*.log``), a pattern with ``/`` matches a path from the
workspace root (``data/raw/*``), a trailing ``/`` matches folders only. Left-out paths are listed in the run's
``qualification/ignored.txt``, so nothing is dropped silently.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["IGNORE_FILE", "IgnoreRules", "Skip", "read_ignore_rules"]

IGNORE_FILE = ".harnessgymignore"
MAX_IGNORE_BYTES = 64 * 1024
"""A larger ignore file is not read (it is agent-writable input, and a real one is a few lines)."""

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
