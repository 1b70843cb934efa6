"""What may be served: verdicts harnessgym produced and the active set, kept where the agent does not write.

The agent runs as the same user with every permission, and everything under its workspace (``.harnessgym/``
included) is its to write. So what opens the gate lives outside the workspace, in a per-workspace state
directory owned by harnessgym:

    ``$HARNESSGYM_STATE_DIR/<key>/``  when set (tests point it at a temporary folder), else
    ``$XDG_STATE_HOME/harnessgym/<key>/``, else ``~/.local/state/harnessgym/<key>/``

where ``<key>`` is a hash of the workspace's real path. The directory is created 0700, must be ours and no
symlink, and must not lie inside the workspace. It holds::

    verdicts/<kind>-<digest>.json   a verdict of harnessgym's own qualification (``kind`` server or artifact)
    active.json                     the active server set the host serves
    framings.json                   the framing each qualified server answered in (a hint)

A registry entry saying ``active``, a verdict or an ``active.json`` planted in the workspace are never read.
What is served is checked again against the content as it stands (:func:`digest_matches`): a mismatch means
"needs qualification", never "qualified".

This module is the only door to those files; callers pass and get bytes or JSON objects, so the models that
describe a verdict stay with the code that produces it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal

from mcp_host._errors import MCPHostError
from mcp_host._paths import private_dir, read_regular, write_atomic

__all__ = ["STATE_DIR_VAR", "StateDirError", "VerdictKind", "VerdictStore", "state_dir"]

STATE_DIR_VAR = "HARNESSGYM_STATE_DIR"
"""Overrides where harnessgym keeps its per-workspace state (tests set it to a temporary folder)."""

VerdictKind = Literal["server", "artifact"]
_HEX = re.compile(r"^[0-9a-f]{16,128}$")
_MAX_RECORD_BYTES = 8 * 1024 * 1024


class StateDirError(MCPHostError):
    """harnessgym's state directory for a workspace cannot be used (not ours, a link, inside the workspace)."""


def _state_root() -> Path:
    override = os.environ.get(STATE_DIR_VAR)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "harnessgym"


def state_dir(workspace: Path, *, create: bool = True) -> Path:
    """The state directory of ``workspace`` (see the module docstring); raises :class:`StateDirError`."""
    ws = workspace.resolve()
    key = hashlib.sha256(str(ws).encode()).hexdigest()[:24]
    root = _state_root().absolute()
    directory = root / key
    real = Path(os.path.realpath(root)) / key
    if real == ws or ws in real.parents:
        raise StateDirError(
            f"harnessgym's state directory {directory} lies inside the workspace {ws}, where the agent writes; "
            f"set {STATE_DIR_VAR} to a folder outside it"
        )
    if create:
        try:
            private_dir(directory)
        except OSError as exc:
            raise StateDirError(f"cannot use harnessgym's state directory {directory}: {exc}") from None
    return directory


class VerdictStore:
    """The verdicts and the active set of one workspace (see the module docstring)."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace.resolve()
        self.dir = state_dir(self.workspace)

    @property
    def active_path(self) -> Path:
        return self.dir / "active.json"

    def _verdict_path(self, kind: VerdictKind, digest: str) -> Path | None:
        return self.dir / "verdicts" / f"{kind}-{digest}.json" if _HEX.match(digest) else None

    def get(self, kind: VerdictKind, digest: str | None) -> dict[str, Any] | None:
        """The verdict recorded for content ``digest``, or None (unknown digest, unreadable record)."""
        path = self._verdict_path(kind, digest or "")
        if path is None:
            return None
        try:
            data = json.loads(read_regular(path, _MAX_RECORD_BYTES))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("digest") == digest else None

    def put(self, kind: VerdictKind, digest: str, verdict: dict[str, Any]) -> None:
        """Record harnessgym's verdict about content ``digest`` (the record keeps the digest it is about)."""
        path = self._verdict_path(kind, digest)
        if path is None:
            raise ValueError(f"not a content digest: {digest!r}")
        write_atomic(path, json.dumps({**verdict, "digest": digest}, indent=1).encode())

    def passed(self, kind: VerdictKind, digest: str | None) -> dict[str, Any] | None:
        """The recorded verdict for ``digest`` when it is a pass, else None."""
        verdict = self.get(kind, digest)
        return verdict if verdict is not None and verdict.get("status") == "passed" else None

    def write_active(self, data: bytes) -> None:
        write_atomic(self.active_path, data)

    def read_active(self) -> bytes | None:
        """The active set as written by :meth:`write_active`; None when there is none. Raises ``OSError``."""
        try:
            return read_regular(self.active_path, _MAX_RECORD_BYTES)
        except FileNotFoundError:
            return None

    def active_identity(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.active_path, follow_symlinks=False)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def framings(self) -> dict[str, Any]:
        try:
            data = json.loads(read_regular(self.dir / "framings.json", _MAX_RECORD_BYTES))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_framings(self, memo: dict[str, Any]) -> None:
        write_atomic(self.dir / "framings.json", json.dumps(memo, indent=1).encode())
