"""Read-only resources for a run's records, addressed by run id alone.

A URI cannot safely carry a workspace path (the SDK rejects absolute paths in template parameters, rightly),
so a run id is looked up in the workspaces this server knows: its runs', its index, and the allowed roots.
Run ids are timestamped with random hex, so they do not collide in practice; if one ever does, the read fails
and says so.
"""

from __future__ import annotations

from pathlib import Path

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

import harnessgym as hg
from harnessgym import store
from harnessgym.errors import HarnessgymError
from harnessgym.serve._state import ControlState, Ctx
from harnessgym.store.layout import Layout

__all__ = ["register_resources"]

_PHASES = ("attempt", "reflection", "build")


def _find(state: ControlState, run_id: str) -> Path:
    found = state.holders(run_id)
    if not found:
        raise ResourceNotFoundError(f"no run {run_id!r} in the workspaces this server knows; call list_runs")
    if len(found) > 1:
        raise ResourceError(f"run id {run_id!r} exists in several workspaces ({', '.join(map(str, found))})")
    return found[0]


def _iteration(n: str) -> int:
    if not n.isdigit() or int(n) < 1:
        raise ResourceNotFoundError(f"iteration {n!r} is not a positive number")
    return int(n)


def register_resources(server: MCPServer[ControlState]) -> None:
    @server.resource("harnessgym://runs/{run_id}/summary", mime_type="application/json")
    async def run_summary(run_id: str, ctx: Ctx) -> str:
        """The run's summary once it finished; while it runs, its state as the journal describes it."""
        state = ctx.request_context.lifespan_context
        ws = _find(state, run_id)
        try:
            info = hg.get_run(ws, run_id)
            summary = store.read_summary(Layout(ws), run_id) if info.status != "running" else None
            return (summary or info).model_dump_json(indent=2)
        except HarnessgymError as exc:
            raise ResourceError(str(exc)) from exc

    @server.resource("harnessgym://runs/{run_id}/iterations/{n}/result", mime_type="application/json")
    async def iteration_result(run_id: str, n: str, ctx: Ctx) -> str:
        """One iteration's record: phases, the agent's claim, the measured verdict, qualification."""
        state = ctx.request_context.lifespan_context
        ws = _find(state, run_id)
        try:
            record = store.read_iteration(Layout(ws), run_id, _iteration(n))
        except HarnessgymError as exc:
            raise ResourceError(str(exc)) from exc
        if record is None:
            raise ResourceNotFoundError(f"run {run_id} has no record of iteration {n} (yet)")
        return record.model_dump_json(indent=2)

    @server.resource("harnessgym://runs/{run_id}/iterations/{n}/{phase}/transcript", mime_type="text/plain")
    async def phase_transcript(run_id: str, n: str, phase: str, ctx: Ctx) -> str:
        """A readable log of one agent phase (attempt, reflection or build) of one iteration."""
        if phase not in _PHASES:
            raise ResourceNotFoundError(f"phase {phase!r} has no transcript; use one of {', '.join(_PHASES)}")
        state = ctx.request_context.lifespan_context
        ws = _find(state, run_id)
        try:
            text = store.read_phase_files(Layout(ws), run_id, _iteration(n), phase).transcript
        except HarnessgymError as exc:
            raise ResourceError(str(exc)) from exc
        if text is None:
            raise ResourceNotFoundError(f"run {run_id} iteration {n} has no {phase} transcript (yet)")
        return text
