"""The control server's shared state for one lifespan: settings, roots and the workspace index.

Runs and comparisons are not here: each runs in a detached job worker the library owns
(:mod:`harnessgym.jobs`), so they outlive this server; the server only collects the exits of the workers it
started while it lives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
from mcp.server.mcpserver import Context

import harnessgym as hg
from harnessgym.errors import RunNotFoundError
from harnessgym.jobs import JOBS, JobRecord
from harnessgym.serve._index import WorkspaceIndex, candidate_workspaces
from harnessgym.serve._roots import resolve_workspace
from harnessgym.serve._settings import ServeSettings

__all__ = ["ControlState", "Ctx", "control_lifespan"]


@dataclass
class ControlState:
    """What every tool call of one server lifespan shares."""

    settings: ServeSettings
    roots: tuple[Path, ...]
    index: WorkspaceIndex
    task_group: anyio.abc.TaskGroup
    """The lifespan's: it waits on the workers this server started, to collect their exits."""
    used: list[Path] = field(default_factory=list)
    """Workspaces this server started runs in (the index may be read-only)."""

    def workspace(self, given: str | None) -> Path:
        return resolve_workspace(self.roots, given)

    def watch(self, job: JobRecord) -> None:
        """Collect ``job``'s worker's exit when it ends (it outlives this server if need be)."""
        self.task_group.start_soon(JOBS.wait, job, name=f"harnessgym job {job.job_id}")

    def remember(self, workspace: Path) -> None:
        if workspace not in self.used:
            self.used.append(workspace)
        try:
            self.index.add(workspace)
        except OSError:
            # The index is only a hint for restarts; a read-only state folder must not fail a run.
            pass

    def holders(self, run_id: str) -> list[Path]:
        """The known workspaces that hold a run with this id."""
        found: list[Path] = []
        for ws in self.known_workspaces():
            try:
                hg.get_run(ws, run_id)
            except RunNotFoundError:
                continue
            found.append(ws)
        return found

    def known_workspaces(self) -> list[Path]:
        found = candidate_workspaces(self.roots, self.index)
        return [*dict.fromkeys([*self.used, *found])]


Ctx = Context[ControlState, Any]


Lifespan = Callable[[Any], AbstractAsyncContextManager[ControlState]]


def control_lifespan(settings: ServeSettings) -> Lifespan:
    """The lifespan: a task group that collects the exits of the job workers this server starts; leaving it
    leaves the workers running (they are reparented, and go on to their end)."""

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[ControlState]:
        async with anyio.create_task_group() as tg:
            state = ControlState(
                settings=settings,
                roots=settings.roots,
                index=WorkspaceIndex(settings.state_dir),
                task_group=tg,
            )
            try:
                yield state
            finally:
                tg.cancel_scope.cancel()

    return lifespan
