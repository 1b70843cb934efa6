"""What every phase function gets: the config, the paths, the runner, the journal and the event emitter."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime

import anyio.abc

import mcp_host
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
    host: anyio.abc.Process | None = None
    """The workspace's host daemon this run started (:mod:`harnessgym.loop.host`), kept for the whole run."""

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
            {
                "seq": self.next_seq,
                "kind": kind,
                "iteration": iteration,
                "phase": phase,
                "pid": os.getpid(),
                "record": record.model_dump(mode="json") if record is not None else None,
                "message": message,
            }
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
        """The agent's MCP entry, when at least one MCP server is active: a relay to the run's host.

        :mod:`mcp_host._serve.connect` is a standard-library script run by path (``python -I``), so it answers
        at once and nothing in the workspace can replace it; when the host is not up (a resumed session
        outside a run) it starts the workspace's daemon itself."""
        if self.activation is None or not self.activation.mcp_servers:
            return None
        from harnessgym.loop.host import host_argv

        ws = str(self.layout.workspace)
        # Where the host finds the verdicts and the active set (Codex starts servers with a minimal env).
        env = {k: os.environ[k] for k in ("PYTHONPATH", "HARNESSGYM_STATE_DIR", "XDG_STATE_HOME") if k in os.environ}
        env.update(self.env)
        tag = {"run_id": self.run_id, "iteration": iteration, "phase": phase}
        return McpLaunch(
            name="harnessgym",
            command=sys.executable,
            args=["-I", "-S", mcp_host.CONNECT_SCRIPT,
                  "--socket", str(mcp_host.socket_path(self.layout.workspace)), "--tag", json.dumps(tag),
                  "--start", json.dumps(host_argv(ws, 600)),
                  "--log", str(mcp_host.host_dir(self.layout.workspace) / "daemon.log")],
            env=env,
            cwd=self.layout.workspace,
        )  # fmt: skip
