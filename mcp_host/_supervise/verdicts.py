"""The verdict cache: what qualification found about a server, kept by the digest of the server's content.

Qualification writes a server's *passed* verdict (:func:`write_verdict`); qualification reads it back to skip
an artifact it already passed, and the host reads it (:func:`recall_framing`) to start a server in the framing
it answered in, without probing. One cache, behind these functions alone, so where verdicts are kept is decided
here and nowhere else (today under the workspace, :func:`mcp_host._paths.verdicts_dir`). What is read back is
checked: a file that does not parse, or is about another digest, is no verdict.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from mcp_host._paths import read_regular, verdicts_dir, write_atomic
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


def _path(workspace: Path, digest: str) -> Path | None:
    # A digest is hex; anything else (empty, a path) names no cache entry.
    if not digest or not all(c in "0123456789abcdef" for c in digest):
        return None
    return verdicts_dir(workspace) / f"{digest}.json"


def read_verdict(workspace: Path, digest: str) -> ServerVerdict | None:
    """The cached verdict on the server artifact with ``digest``; None when there is none usable."""
    path = _path(workspace, digest)
    if path is None:
        return None
    try:
        verdict = ServerVerdict.model_validate_json(read_regular(path, _MAX_VERDICT_BYTES))
    except FileNotFoundError:
        return None
    except (OSError, ValidationError, ValueError) as exc:
        log.warning("the cached verdict %s cannot be read (%s); qualifying again", path, exc)
        return None
    return verdict if verdict.digest == digest else None


def write_verdict(workspace: Path, verdict: ServerVerdict) -> None:
    """Keep ``verdict`` for its digest (atomically); a cache that cannot be written only costs a re-check."""
    path = _path(workspace, verdict.digest)
    if path is None:
        return
    try:
        write_atomic(path, verdict.model_dump_json(indent=2))
    except OSError as exc:
        log.warning("cannot cache the verdict for %s: %s", verdict.name, exc)


def recall_framing(workspace: Path, digest: str) -> WireFraming | None:
    """The framing the server with ``digest`` answered in when it was qualified, if it passed."""
    verdict = read_verdict(workspace, digest)
    return verdict.framing if verdict is not None and verdict.status == "passed" else None
