"""Turning what a client names into a workspace path, only ever inside the allowed roots."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mcp.server.mcpserver.exceptions import ToolError

__all__ = ["resolve_inside", "resolve_workspace"]


def _roots_text(roots: Sequence[Path]) -> str:
    return ", ".join(str(r) for r in roots)


def resolve_inside(roots: Sequence[Path], given: str | Path, *, what: str = "workspace") -> Path:
    """Resolve ``given`` (relative paths against the first root) and require it to be inside a root.

    Symlinks are resolved before the check, so neither a link nor a ``..`` can escape a root.
    """
    raw = Path(str(given)).expanduser()
    if not str(given).strip():
        raise ToolError(f"the {what} path is empty; name a folder under one of the allowed roots: {_roots_text(roots)}")
    candidate = (raw if raw.is_absolute() else roots[0] / raw).resolve()
    if not any(candidate == root or candidate.is_relative_to(root) for root in roots):
        raise ToolError(
            f"{what} {given!s} resolves to {candidate}, which is outside the allowed roots ({_roots_text(roots)}); "
            "name a folder under one of them, or restart `harnessgym serve` with --allow-root for it"
        )
    return candidate


def resolve_workspace(roots: Sequence[Path], given: str | Path | None, *, must_exist: bool = True) -> Path:
    """The workspace folder a tool call names; ``None`` means the first allowed root."""
    path = roots[0] if given is None else resolve_inside(roots, given)
    if must_exist and not path.is_dir():
        raise ToolError(f"workspace {path} is not an existing folder; create it or name another one")
    return path
