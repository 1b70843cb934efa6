"""What every phase function gets: the config, the paths, the runner, the journal and the event emitter."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import datetime

from harnessgym import store
from harnessgym.artifacts.registry import ActivationRecord, Registry
from harnessgym.config import RunConfig
from harnessgym.events import Emitter
from harnessgym.evidence.scores import Measurement
from harnessgym.records import IterationRecord, JournalEntry, JournalKind, LoopPhase, utcnow
from harnessgym.store.layout import Layout, RunLayout
from runners import McpLaunch, Runner

__all__ = ["RunContext"]


@dataclass
class RunContext:
    """One run in progress."""

    config: RunConfig
    layout: Layout
    runner: Runner
    emit: Emitter
    env: dict[str, str]
    """Marker variables every child of the run carries (see :mod:`harnessgym.jobs.orphans`)."""
    started_at: datetime = field(default_factory=utcnow)
    activation: ActivationRecord | None = None
    next_seq: int = 0
    records: dict[int, IterationRecord] = field(default_factory=dict)
    """The run's iteration records as this process holds them. Phases read earlier iterations from here, never
    from disk, where the agent can rewrite them."""
    baseline: Measurement | None = None
    """The baseline measurement (optimization mode), read once before any agent of this process ran."""

    @property
    def run_id(self) -> str:
        return self.config.run_id

    @property
    def run(self) -> RunLayout:
        return self.layout.run(self.config.run_id)

    def journal(
        self,
        kind: JournalKind,
        *,
        iteration: int | None = None,
        phase: LoopPhase | None = None,
        record: IterationRecord | None = None,
        message: str = "",
    ) -> None:
        entry = JournalEntry.model_validate(
            {"seq": self.next_seq, "kind": kind, "iteration": iteration, "phase": phase, "pid": os.getpid(),
             "record": record.model_dump(mode="json") if record is not None else None, "message": message}
        )
        store.append_journal(self.run.journal, entry)
        self.next_seq += 1

    def save(self, record: IterationRecord) -> None:
        record.updated_at = utcnow()
        store.write_model(self.run.iteration_record(record.iteration), record)

    def registry(self, record: IterationRecord | None = None) -> Registry:
        """The registry as it stands; problems with what the agent wrote go into ``record``."""
        registry, problems = store.read_registry(self.layout)
        if record is not None:
            record.problems += [p for p in problems if p not in record.problems]
        return registry

    def mcp_launch(self, iteration: int, phase: str) -> McpLaunch | None:
        """The ``harnessgym host`` server for the agent, when at least one MCP server is active."""
        if self.activation is None or not self.activation.mcp_servers:
            return None
        ws = str(self.layout.workspace)
        env = {k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}
        env.update(self.env)
        return McpLaunch(
            name="harnessgym",
            command=sys.executable,
            args=["-m", "harnessgym", "host", "--workspace", ws, "--run-id", self.run_id,
                  "--iteration", str(iteration), "--phase", phase],
            env=env,
            cwd=self.layout.workspace,
        )
