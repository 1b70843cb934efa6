"""The content digest of a server artifact: what a cached verdict is about.

It covers the normalised spec, every file under the manifest's directory (minus caches) and every file the
command line or self-test names, with workspace paths replaced by a placeholder, so a copy of the artifact
in a fresh qualification workspace has the same digest and an edit to any of its files changes it.
Bounded: at most 2000 files and 64 MiB are read.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from mcp_host._supervise.spec import ServerSpec

__all__ = ["SKIP_DIRS", "digest"]

SKIP_DIRS = {"__pycache__", ".git", "node_modules", ".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
_DIGEST_MAX_FILES = 2000
_DIGEST_MAX_BYTES = 64 * 1024 * 1024
_EXE = Path(sys.executable).resolve()


def digest(spec: ServerSpec, workspace: Path) -> str:
    h = hashlib.sha256()
    # Workspace-relative, so a copy of the artifact in a fresh qualification workspace has the same digest.
    ws = str(workspace)
    h.update(spec.model_dump_json(exclude={"digest", "warnings"}).replace(ws, "$WORKSPACE").encode())
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
    total = 0
    for key in sorted(files):
        try:
            data = files[key].read_bytes()
        except OSError:
            continue
        total += len(data)
        if total > _DIGEST_MAX_BYTES:
            h.update(b"\0truncated")
            break
        h.update(key.replace(ws, "$WORKSPACE").encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()
