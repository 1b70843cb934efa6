"""The active server set: which qualified servers the running host serves.

:func:`write_active_servers` replaces ``<workspace>/.harnessgym/host/active.json`` atomically; a running host
polls the file's identity (inode, size, mtime) and reconciles: new servers start, changed ones (by digest)
restart, removed ones stop, and clients get ``notifications/tools/list_changed``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ValidationError

from mcp_host._paths import active_path, write_atomic
from mcp_host._serve.telemetry import now_iso
from mcp_host._supervise.manifest import ServerSpec

__all__ = ["ActiveSet", "read_active_servers", "write_active_servers"]


class ActiveSet(BaseModel):
    """The content of ``active.json``."""

    schema_version: int = 1
    """Format version."""
    updated_at: str = ""
    """When it was written."""
    servers: list[ServerSpec] = []
    """The servers to serve, in order."""


def write_active_servers(workspace: Path, specs: Sequence[ServerSpec]) -> None:
    """Atomically replace the active set the host serves; a running host picks the change up live."""
    active = ActiveSet(updated_at=now_iso(), servers=list(specs))
    write_atomic(active_path(workspace), active.model_dump_json(indent=2).encode())


def read_active_servers(workspace: Path) -> tuple[list[ServerSpec], str | None]:
    """The active servers, and a problem description when the file exists but cannot be used."""
    path = active_path(workspace)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], None
    except OSError as exc:
        return [], f"{path} cannot be read: {exc.strerror or exc}"
    try:
        return ActiveSet.model_validate_json(data).servers, None
    except ValidationError as exc:
        return [], f"{path} is not a valid active set: {exc.errors()[0].get('msg', exc)}"


def file_identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
