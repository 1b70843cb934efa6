"""The control server's shared state for one lifespan: settings, roots, the workspace index, live runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import Context

import harnessgym as hg
from harnessgym.errors import RunNotFoundError
from harnessgym.serve._index import WorkspaceIndex, candidate_workspaces
from harnessgym.serve._roots import resolve_workspace
from harnessgym.serve._runs import RunManager
from harnessgym.serve._settings import ServeSettings

__all__ = ["ControlState", "Ctx", "control_lifespan"]


@dataclass
class ControlState:
    """What every tool call of one server lifespan shares."""

    settings: ServeSettings
    roots: tuple[Path, ...]
    index: WorkspaceIndex
    runs: RunManager
    compares: RunManager
    """Comparisons this server drives, apart from runs (so run tools never see them)."""
    compare_tracking: dict[str, Any] = field(default_factory=dict)
    """What this server knows of each comparison it started beyond its files (see ``_compare_tools``)."""

    def workspace(self, given: str | None) -> Path:
        return resolve_workspace(self.roots, given)

    def remember(self, workspace: Path) -> None:
        try:
            self.index.add(workspace)
        except OSError:
            # The index is only a hint for restarts; a read-only state folder must not fail a run.
            pass

    def holders(self, run_id: str) -> list[Path]:
        """The workspaces that hold a run with this id: the live run's, else a search of known workspaces."""
        live = self.runs.get(run_id)
        if live is not None:
            return [live.workspace]
        found: list[Path] = []
        for ws in self.known_workspaces():
            try:
                hg.get_run(ws, run_id)
            except RunNotFoundError:
                continue
            found.append(ws)
        return found

    def known_workspaces(self) -> list[Path]:
        live = [run.workspace for run in self.runs.all()]
        found = candidate_workspaces(self.roots, self.index)
        return [*dict.fromkeys([*live, *found])]


Ctx = Context[ControlState, Any]


Lifespan = Callable[[Any], AbstractAsyncContextManager[ControlState]]


def control_lifespan(settings: ServeSettings) -> Lifespan:
    """The lifespan: one task group for background runs; leaving it cancels them (they stay resumable)."""

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[ControlState]:
        async with anyio.create_task_group() as tg:
            state = ControlState(
                settings=settings,
                roots=settings.roots,
                index=WorkspaceIndex(settings.state_dir),
                runs=RunManager(tg),
                compares=RunManager(tg),
            )
            try:
                yield state
            finally:
                tg.cancel_scope.cancel()

    return lifespan
