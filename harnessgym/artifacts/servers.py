"""MCP-server artifacts: qualifying and activating them through :mod:`mcp_host`.

mcp_host is imported inside the functions (it pulls in the MCP SDK, which ``harnessgym --help`` must not
pay for). Should it be unavailable, MCP artifacts are skipped with a recorded warning: they stay candidates
and are never handed to an agent unqualified.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harnessgym.artifacts.registry import ArtifactEntry, ArtifactVerdict, McpActivation

if TYPE_CHECKING:
    from mcp_host import CallTail

__all__ = ["activate_servers", "call_tail", "calls_by_iteration", "calls_offset", "qualify_mcp"]


def _skipped(entries: Sequence[ArtifactEntry], why: str) -> list[ArtifactVerdict]:
    return [ArtifactVerdict(artifact_id=e.id, kind="mcp", path=e.path, status="skipped", message=why) for e in entries]


async def qualify_mcp(
    entries: Sequence[ArtifactEntry], workspace: Path, verdicts_of: Path | None = None
) -> list[ArtifactVerdict]:
    """Smoke-test and self-test each MCP artifact as it stands in ``workspace`` (a clean copy)."""
    if not entries:
        return []
    try:
        from mcp_host import ManifestError, ServerSpec, load_manifest, qualify_servers
    except ImportError as exc:
        return _skipped(entries, f"MCP artifacts were skipped: mcp_host cannot qualify servers ({exc})")
    verdicts: dict[str, ArtifactVerdict] = {}
    specs: list[tuple[ArtifactEntry, ServerSpec]] = []
    for entry in entries:
        try:
            specs.append((entry, load_manifest(workspace / entry.path, workspace)))
        except ManifestError as exc:
            verdicts[entry.id] = ArtifactVerdict(artifact_id=entry.id, kind="mcp", path=entry.path, status="failed",
                                                 checks=["manifest"], message=f"invalid manifest: {exc}")  # fmt: skip
    if specs:
        results = await qualify_servers([s for _, s in specs], workspace=workspace, verdicts_of=verdicts_of)
        for (entry, _), result in zip(specs, results, strict=True):
            verdicts[entry.id] = ArtifactVerdict(
                artifact_id=entry.id,
                kind="mcp",
                path=entry.path,
                status=result.status,
                checks=["manifest", f"mcp_smoke:{result.smoke_status}", f"mcp_self_test:{result.self_test_status}"],
                message=result.message,
                tools=list(result.tools),
            )
    return [verdicts[e.id] for e in entries]


def activate_servers(workspace: Path, entries: Sequence[ArtifactEntry]) -> tuple[list[McpActivation], list[str]]:
    """Tell the host which servers to serve (none when ``entries`` is empty); returns them and warnings."""
    try:
        from mcp_host import ManifestError, ServerSpec, load_manifest, write_active_servers
    except ImportError as exc:
        return [], [f"MCP servers were not activated: mcp_host is unavailable ({exc})"] if entries else []
    active: list[McpActivation] = []
    specs: list[ServerSpec] = []
    warnings: list[str] = []
    for entry in entries:
        try:
            spec = load_manifest(workspace / entry.path, workspace)
        except ManifestError as exc:
            warnings.append(f"MCP artifact {entry.id!r} was not activated: {exc}")
            continue
        specs.append(spec)
        active.append(McpActivation(artifact_id=entry.id, name=spec.name, manifest_path=spec.manifest_path,
                                    digest=spec.digest or None, artifact_path=entry.path,
                                    enabled_tools=list(spec.enabled_tools or ())))  # fmt: skip
    write_active_servers(workspace, specs)
    return active, warnings


def calls_offset(workspace: Path) -> int:
    """Where the host's telemetry ends now; :func:`calls_by_iteration` reads only what comes after it."""
    from mcp_host import calls_offset as offset

    return offset(workspace)


def calls_by_iteration(workspace: Path, run_id: str, since: int = 0) -> dict[int, int]:
    """MCP tool calls per iteration of ``run_id`` from the host's telemetry written after offset ``since``."""
    from mcp_host import summarize_calls

    return dict(summarize_calls(workspace, run_id, since=since).by_iteration)


def call_tail(workspace: Path) -> CallTail | None:
    """A reader of the calls the host records from now on (None when mcp_host is unavailable)."""
    try:
        from mcp_host import CallTail
    except ImportError:
        return None
    return CallTail(workspace)
