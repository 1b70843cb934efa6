"""Tools on a workspace outside any run: score it, and list, qualify, promote or quarantine its artifacts."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

import harnessgym as hg
from harnessgym.records import Verdict
from harnessgym.serve._common import Seconds, Workspace, library_errors, seconds, state_of, with_heartbeat
from harnessgym.serve._models import ArtifactList, ArtifactView, QualifyView
from harnessgym.serve._state import Ctx

__all__ = ["WORKSPACE_TOOLS"]

ArtifactId = Annotated[str, Field(description="The artifact id, '<kind>:<path>' as list_artifacts shows it.")]


async def score_workspace(
    ctx: Ctx,
    command: Annotated[str, Field(description="The verify or score command, run with /bin/sh -c in the workspace.")],
    workspace: Workspace = None,
    score_key: Annotated[str, Field(description="Where the score is in the command's JSON output.")] = "score",
    timeout: Seconds = None,
) -> Verdict:
    """Run a verify or score command on a workspace the way the loop does; return the parsed verdict and score."""
    ws = state_of(ctx).workspace(workspace)
    limit = seconds(timeout, 120.0)
    with library_errors():
        return await with_heartbeat(
            ctx,
            f"running {command!r} in {ws}",
            lambda: hg.score_workspace(ws, command, score_key=score_key, timeout=limit),
        )


async def list_artifacts(ctx: Ctx, workspace: Workspace = None) -> ArtifactList:
    """The artifacts agents built in a workspace and their state: candidate, qualified, active or quarantined."""
    ws = state_of(ctx).workspace(workspace)
    with library_errors():
        return ArtifactList(workspace=ws, artifacts=list(hg.list_artifacts(ws)))


async def qualify_artifact(ctx: Ctx, artifact_id: ArtifactId, workspace: Workspace = None) -> QualifyView:
    """Qualify one artifact in a clean copy of the workspace; it becomes qualified or quarantined."""
    ws = state_of(ctx).workspace(workspace)
    with library_errors():
        verdict = await with_heartbeat(
            ctx, f"qualifying {artifact_id} in a clean copy of {ws}", lambda: hg.qualify_artifact(ws, artifact_id)
        )
        entry = next((a for a in hg.list_artifacts(ws) if a.id == artifact_id), None)
    return QualifyView(workspace=ws, verdict=verdict, artifact=entry)


async def promote_artifact(ctx: Ctx, artifact_id: ArtifactId, workspace: Workspace = None) -> ArtifactView:
    """Make a qualified artifact active: the next fresh agent session gets it."""
    ws = state_of(ctx).workspace(workspace)
    with library_errors():
        return ArtifactView(workspace=ws, artifact=hg.promote_artifact(ws, artifact_id))


async def quarantine_artifact(
    ctx: Ctx,
    artifact_id: ArtifactId,
    reason: Annotated[str, Field(min_length=1, description="Why; recorded in the registry.")],
    workspace: Workspace = None,
) -> ArtifactView:
    """Quarantine an artifact with a reason: it disappears from activation."""
    ws = state_of(ctx).workspace(workspace)
    with library_errors():
        return ArtifactView(workspace=ws, artifact=hg.quarantine_artifact(ws, artifact_id, reason))


WORKSPACE_TOOLS = (score_workspace, list_artifacts, qualify_artifact, promote_artifact, quarantine_artifact)
