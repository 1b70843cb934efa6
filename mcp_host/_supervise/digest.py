"""The content digest of a server artifact: what a cached verdict is about.

It covers the normalised spec, every file under the manifest's directory (minus caches) and every file the
command line or self-test names, with workspace paths replaced by a placeholder, so a copy of the artifact
in a fresh qualification workspace has the same digest and an edit to any of its files changes it.

Bounded: at most 2000 files are hashed, each as a stream (a file's size never decides the memory used), and
a bundle whose files add up to more than :data:`MAX_BUNDLE_BYTES` (sizes as listed, so a sparse file counts
whole) is refused before anything is read: :class:`BundleTooLargeError`. Only regular files count; a FIFO or
device in the folder is skipped, never opened.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from pathlib import Path

from mcp_host._errors import MCPHostError
from mcp_host._paths import open_regular
from mcp_host._supervise.spec import ServerSpec

__all__ = ["MAX_BUNDLE_BYTES", "SKIP_DIRS", "BundleTooLargeError", "digest"]

MAX_BUNDLE_BYTES = 256 * 1024 * 1024
"""The most a server's files may add up to; a bigger bundle is refused (a server is code, not data)."""


class BundleTooLargeError(MCPHostError):
    """A server's files add up to more than :data:`MAX_BUNDLE_BYTES`."""


SKIP_DIRS = {"__pycache__", ".git", "node_modules", ".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
_DIGEST_MAX_FILES = 2000
_CHUNK = 1 << 20
_EXE = Path(sys.executable).resolve()


def digest(spec: ServerSpec, workspace: Path) -> str:
    h = hashlib.sha256()
    # Workspace-relative, so a copy of the artifact in a fresh qualification workspace has the same digest.
    ws = str(workspace)
    # pass_env is left out while empty, so specs that name none keep the digests they had before it existed.
    exclude = {"digest", "warnings"} | (set() if spec.pass_env else {"pass_env"})
    h.update(spec.model_dump_json(exclude=exclude).replace(ws, "$WORKSPACE").encode())
    files: dict[str, Path] = {}
    root = spec.manifest_path.parent
    if root != workspace:
        for file in sorted(root.rglob("*")):
            if len(files) >= _DIGEST_MAX_FILES:
                break
            rel = file.relative_to(root)
            if file.is_file() and not SKIP_DIRS.intersection(rel.parts) and file.suffix not in _SKIP_SUFFIXES:
                files[str(file)] = file
    for arg in (spec.command, *spec.args, *(spec.self_test.argv if spec.self_test else ())):
        candidate = Path(arg) if Path(arg).is_absolute() else spec.cwd / arg
        try:  # an argument may be no file name at all (``-c "<a long program>"``: ENAMETOOLONG)
            is_file = bool(arg) and not arg.startswith("-") and candidate.is_file() and candidate.resolve() != _EXE
        except OSError:
            is_file = False
        if is_file:
            files.setdefault(str(candidate), candidate)
    sizes: dict[str, int] = {}
    for key, path in files.items():
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            sizes[key] = st.st_size
    total = sum(sizes.values())
    if total > MAX_BUNDLE_BYTES:
        biggest = max(sizes, key=lambda k: sizes[k])
        raise BundleTooLargeError(
            f"server {spec.name!r}: its files add up to {total} bytes (the biggest is {biggest}, {sizes[biggest]} "
            f"bytes); a server bundle may hold {MAX_BUNDLE_BYTES} bytes at most: move data out of its folder"
        )
    for key in sorted(sizes):
        file_hash = _hash_file(files[key])
        if file_hash is not None:
            h.update(key.replace(ws, "$WORKSPACE").encode() + b"\0" + file_hash)
    return h.hexdigest()


def _hash_file(path: Path) -> bytes | None:
    """The sha256 of a regular file, read as a stream; None when it cannot be read as one."""
    try:
        # Symlinks inside the bundle are followed for the digest (they are part of what runs), but only a
        # regular file at the end is read: never a FIFO, which would block.
        fd = open_regular(path.resolve())
    except (OSError, RuntimeError):
        return None
    h = hashlib.sha256()
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.digest()
