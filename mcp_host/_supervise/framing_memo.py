"""What framing an artifact answered in, remembered by digest, so the host need not probe it again.

Two sources, both in harnessgym's state directory (:mod:`mcp_host._supervise.trust`): the qualification
verdict, and a memo the host itself updates after a successful start. A wrong or missing memo only costs a
probe (see :mod:`mcp_host.handshake`).
"""

from __future__ import annotations

from pathlib import Path

from mcp_host._supervise.trust import StateDirError, VerdictStore
from mcp_host._wire.framing import WireFraming

__all__ = ["recall_framing", "remember_framing"]


def _store(workspace: Path) -> VerdictStore | None:
    try:
        return VerdictStore(workspace)
    except StateDirError:
        return None


def recall_framing(workspace: Path, digest: str) -> WireFraming | None:
    store = _store(workspace) if digest else None
    if store is None:
        return None
    verdict = store.get("server", digest) or {}
    for value in (verdict.get("framing"), store.framings().get(digest)):
        if value == "newline":
            return "newline"
        if value == "content-length":
            return "content-length"
    return None


def remember_framing(workspace: Path, digest: str, framing: WireFraming) -> None:
    store = _store(workspace) if digest else None
    if store is None or recall_framing(workspace, digest) == framing:
        return
    memo = store.framings()
    memo[digest] = framing
    try:
        store.write_framings(memo)
    except OSError:
        pass
