"""What framing an artifact answered in, remembered by digest, so the host need not probe it again.

Two sources: the qualification verdict cached under ``host/verdicts/`` (when qualification used the default
cache) and ``host/framings.json``, which the host itself updates after a successful start. A wrong or
missing memo only costs a probe (see :mod:`mcp_host._supervise.handshake`).
"""

from __future__ import annotations

import json
from pathlib import Path

from mcp_host._paths import host_dir, verdicts_dir, write_atomic
from mcp_host._wire.framing import WireFraming

__all__ = ["recall_framing", "remember_framing"]


def _memo(workspace: Path) -> Path:
    return host_dir(workspace) / "framings.json"


def _read(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recall_framing(workspace: Path, digest: str) -> WireFraming | None:
    if not digest:
        return None
    verdict = _read(verdicts_dir(workspace) / f"{digest}.json").get("framing")
    for value in (verdict, _read(_memo(workspace)).get(digest)):
        if value == "newline" or value == "content-length":
            return value
    return None


def remember_framing(workspace: Path, digest: str, framing: WireFraming) -> None:
    if not digest or recall_framing(workspace, digest) == framing:
        return
    memo = _read(_memo(workspace))
    memo[digest] = framing
    try:
        write_atomic(_memo(workspace), json.dumps(memo, indent=1).encode())
    except OSError:
        pass
