"""The active server set: which qualified servers the running host serves.

:func:`write_active_servers` replaces the active set in harnessgym's state directory (outside the workspace,
see :mod:`mcp_host._supervise.trust`) atomically; a running host polls the file's identity (inode, size,
mtime) and reconciles: new servers start, changed ones (by digest) restart, removed ones stop, and clients
get ``notifications/tools/list_changed``. An ``active.json`` inside the workspace is never read.

Each server is served only while its content still has the digest it was activated with
(:func:`needs_qualification`): a server edited after qualification is left out until it is qualified again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ValidationError

from mcp_host._serve.telemetry import now_iso
from mcp_host._supervise.digest import BundleTooLargeError, digest
from mcp_host._supervise.manifest import ServerSpec
from mcp_host._supervise.trust import StateDirError, VerdictStore

__all__ = ["ActiveSet", "needs_qualification", "read_active_servers", "write_active_servers"]


class ActiveSet(BaseModel):
    """The content of the active set."""

    schema_version: int = 1
    """Format version."""
    updated_at: str = ""
    """When it was written."""
    servers: list[ServerSpec] = []
    """The servers to serve, in order."""


def write_active_servers(workspace: Path, specs: Sequence[ServerSpec]) -> None:
    """Atomically replace the active set the host serves; a running host picks the change up live."""
    active = ActiveSet(updated_at=now_iso(), servers=list(specs))
    VerdictStore(workspace).write_active(active.model_dump_json(indent=2).encode())


def needs_qualification(spec: ServerSpec, workspace: Path) -> str | None:
    """Why ``spec`` must not be served as it stands (its content changed since it was activated), or None."""
    if not spec.digest:
        return f"server {spec.name!r} has no content digest; it needs qualification"
    try:
        now = digest(spec, workspace.resolve())
    except BundleTooLargeError as exc:
        return str(exc)
    if now != spec.digest:
        return (f"server {spec.name!r} changed since it was qualified (digest {spec.digest[:12]} is now "
                f"{now[:12]}); it is not served until it is qualified again")  # fmt: skip
    return None


def read_active_servers(workspace: Path) -> tuple[list[ServerSpec], str | None]:
    """The active servers, and a problem description when the set exists but cannot be used."""
    try:
        store = VerdictStore(workspace)
        data = store.read_active()
    except (StateDirError, OSError) as exc:
        return [], f"the active set of {workspace} cannot be read: {exc}"
    if data is None:
        return [], None
    try:
        return ActiveSet.model_validate_json(data).servers, None
    except ValidationError as exc:
        return [], f"{store.active_path} is not a valid active set: {exc.errors()[0].get('msg', exc)}"
