"""The verdict cache: what qualification found about a server, kept by the digest of the server's content.

Qualification writes a server's *passed* verdict (:func:`write_verdict`); qualification reads it back to skip
an artifact it already passed, and the host reads it (:func:`recall_framing`) to start a server in the framing
it answered in, without probing, and the tool list it offered, to list it before the server has started. One
cache, behind these functions alone: verdicts are kept where the run owns them, outside the workspace the
agent writes (:class:`mcp_host._supervise.trust.VerdictStore`); a verdict planted in the workspace is never
read. What is read back is checked: a file that does not parse, or is about another digest, is no verdict.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from mcp_host._supervise.trust import StateDirError, VerdictStore
from mcp_host._wire.framing import WireFraming

__all__ = ["ServerVerdict", "read_verdict", "recall_framing", "write_verdict"]

log = logging.getLogger(__name__)

_MAX_VERDICT_BYTES = 1 << 20
"""A verdict is a few kilobytes (its self-test output is capped); a bigger file is not one of ours."""


class ServerVerdict(BaseModel):
    """The outcome of qualifying one server."""

    name: str
    """The server's name."""
    manifest_path: Path
    """Its manifest."""
    digest: str
    """The artifact digest the verdict is about."""
    status: Literal["passed", "failed"]
    """The gate: smoke passed, self-test passed, and at least one tool."""
    smoke_status: Literal["passed", "failed", "timeout"]
    """Start + initialize + tools/list."""
    self_test_status: Literal["passed", "failed", "timeout", "not_configured", "not_run"]
    """The manifest's self-test (``not_run`` when the smoke check already failed)."""
    tools: list[str] = []
    """The tools it offers (after ``enabled_tools``)."""
    definitions: list[dict[str, Any]] = []
    """Their whole definitions, as the host offers them before the server has started."""
    message: str = ""
    """Why it failed, or a short account of the pass."""
    cached: bool = False
    """True when this verdict came from the cache."""
    duration_seconds: float = 0.0
    """Time spent qualifying (0 for a cached verdict)."""
    framing: WireFraming | None = None
    """The framing the server answered in."""
    self_test_returncode: int | None = None
    """The self-test's exit code."""
    self_test_output: str = ""
    """The end of the self-test's stdout and stderr (8000 characters each at most)."""


def _store(workspace: Path) -> VerdictStore | None:
    try:
        return VerdictStore(workspace)
    except StateDirError as exc:
        log.warning("%s; verdicts are not kept", exc)
        return None


def read_verdict(workspace: Path, digest: str) -> ServerVerdict | None:
    """The kept verdict on the server artifact with ``digest``; None when there is none usable."""
    store = _store(workspace) if digest else None
    raw = store.get("server", digest) if store is not None else None
    if raw is None:
        return None
    try:
        verdict = ServerVerdict.model_validate(raw)
    except ValidationError as exc:
        log.warning("the kept verdict on %s cannot be read (%s); qualifying again", digest[:12], exc)
        return None
    return verdict if verdict.digest == digest else None


def write_verdict(workspace: Path, verdict: ServerVerdict) -> None:
    """Keep ``verdict`` for its digest (atomically); a cache that cannot be written only costs a re-check."""
    store = _store(workspace) if verdict.digest else None
    if store is None:
        return
    try:
        store.put("server", verdict.digest, verdict.model_dump(mode="json"))
    except (OSError, ValueError) as exc:
        log.warning("cannot keep the verdict for %s: %s", verdict.name, exc)


def recall_framing(workspace: Path, digest: str) -> WireFraming | None:
    """The framing the server with ``digest`` answered in when it was qualified, if it passed."""
    verdict = read_verdict(workspace, digest)
    return verdict.framing if verdict is not None and verdict.status == "passed" else None
