"""The server's own small memory: which workspaces it has run in, so a restarted server lists their runs.

It lives in the state folder (never inside a workspace) and is only a hint: every entry is re-checked
against the allowed roots when read, and a lost or corrupt index only means fewer runs are listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from mcp_host import HARNESS_DIR, write_atomic

__all__ = ["WorkspaceIndex", "candidate_workspaces"]

_INDEX_NAME = "workspaces.json"
_SCAN_DEPTH = 2
_SCAN_LIMIT = 2000


class WorkspaceIndex:
    """A JSON list of absolute workspace paths, written atomically."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / _INDEX_NAME

    def load(self) -> list[Path]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        items = data.get("workspaces") if isinstance(data, dict) else None
        if not isinstance(items, list):
            return []
        return [Path(item) for item in items if isinstance(item, str) and Path(item).is_absolute()]

    def add(self, workspace: Path) -> None:
        known = self.load()
        if workspace in known:
            return
        known.append(workspace)
        payload = json.dumps({"workspaces": [str(p) for p in known]}, indent=2) + "\n"
        write_atomic(self.path, payload)


def _scan(root: Path) -> Iterable[Path]:
    """The root and folders up to two levels below it that hold a ``.harnessgym`` folder (bounded)."""
    frontier, seen = [root], 0
    for depth in range(_SCAN_DEPTH + 1):
        nxt: list[Path] = []
        for folder in frontier:
            seen += 1
            if seen > _SCAN_LIMIT:
                return
            if (folder / HARNESS_DIR).is_dir():
                yield folder
            if depth < _SCAN_DEPTH:
                try:
                    nxt.extend(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
                except OSError:
                    continue
        frontier = sorted(nxt)


def candidate_workspaces(roots: Sequence[Path], index: WorkspaceIndex) -> list[Path]:
    """Every workspace this server may know runs in: indexed ones still inside a root, then scanned ones."""
    found: list[Path] = []
    for path in [*index.load(), *(ws for root in roots for ws in _scan(root))]:
        resolved = path.resolve()
        if resolved in found or not resolved.is_dir():
            continue
        if any(resolved == r or resolved.is_relative_to(r) for r in roots):
            found.append(resolved)
    return found
