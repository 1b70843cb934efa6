"""The contract between the loop and an agent CLI adapter.

The loop (in ``harnessgym``) decides *what* a phase is: its prompt, its files, its timeout, whether it starts a
fresh session or resumes one, and which single MCP server the agent gets. A runner decides *how* one agent CLI
is driven to do it: argv, environment, where the prompt goes, how events are parsed, what counts as failure.

Runners know nothing of iterations, registries or qualification; they must never write outside the paths a
:class:`PhaseRequest` names (the agent itself works in the workspace).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._goal import GoalReport, GoalSpec

__all__ = ["AgentAction", "McpDelivery", "McpLaunch", "Phase", "PhaseOutcome", "PhaseRequest", "PhaseStatus", "Runner"]

Phase = Literal["attempt", "reflection", "build", "repair"]
PhaseStatus = Literal["completed", "failed", "timeout", "interrupted"]


class McpLaunch(BaseModel):
    """How to start the one MCP server the agent gets (``harnessgym host`` for the workspace)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "harnessgym"
    """The server name the agent sees; its tools appear as ``mcp__<name>__<tool>``."""
    command: str
    """The program to start (an absolute path)."""
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    """Variables the server needs (run id, iteration, phase, PYTHONPATH ...). Codex starts servers with a minimal
    environment, so runners must forward these explicitly."""
    cwd: Path | None = None


class AgentAction(BaseModel):
    """A tool call the agent started, as its CLI's event stream showed it (what live progress shows)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: str
    """The tool's name as the CLI reports it (``Bash``, ``mcp__harnessgym__numcheck__failing_cases``, ...)."""
    detail: str = ""
    """A short rendering of its input (a command line, a path), at most 200 characters."""
    mcp: bool = False
    """Whether the CLI called it as an MCP tool."""


class PhaseRequest(BaseModel):
    """One phase for the agent to run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase: Phase
    prompt: str
    """The whole prompt. It is also written to ``prompt_path`` by the loop before the phase starts."""
    workspace: Path
    """The agent's working directory."""
    run_id: str
    iteration: int
    timeout_seconds: float
    """Wall-clock limit for the phase; on expiry the whole process tree is killed."""
    session_id: str | None = None
    """None starts a fresh session; otherwise the session to resume."""
    result_path: Path
    """Where the agent is asked to write its result.json."""
    prompt_path: Path
    stdout_path: Path
    stderr_path: Path
    transcript_path: Path
    """A readable log of the session (events, tool calls, text), written as it happens."""
    mcp: McpLaunch | None = None
    """The MCP server to hand the agent, if any harness tools are active."""
    env: dict[str, str] = Field(default_factory=dict)
    """Variables this phase's agent CLI gets on top of the runner's (the run tag: run id, iteration, phase,
    which ``harnessgym mcp call`` records with each call)."""
    repair_index: int | None = None
    """For ``phase == "repair"``: which repair attempt this is (1-based)."""
    goal: GoalSpec | None = None
    """Attempts only: run in goal mode (see :mod:`runners._goal`); None runs one ordinary turn."""

    on_action: Callable[[AgentAction], None] | None = Field(default=None, exclude=True, repr=False)
    """Called (synchronously, from the stdout reader) for every tool call the CLI's events show; a runner
    calls it through :func:`runners._cli_events.report_action`, which keeps an observer's error out of the run."""


class McpDelivery(BaseModel):
    """Whether the session got the MCP server's tools, as the CLI itself reported at its start."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["delivered", "failed"]
    """``failed``: the CLI did not offer the server's tools (not connected, pending, failed, or none listed);
    such a session is not a harnessed one, whatever else it did."""
    server_status: str | None = None
    """The server's state as the CLI reported it (Claude's init event: ``connected``, ``pending``, ``failed``)."""
    tools: list[str] = Field(default_factory=list)
    """The server's tools the CLI reported offering (Claude: from its init event; Codex reports no tool list,
    so these are the tools it called)."""
    message: str = ""
    """Why delivery failed, or how it was judged."""


class PhaseOutcome(BaseModel):
    """What a phase did, as the runner observed it. An exit code of 0 is not success when the CLI says otherwise."""

    model_config = ConfigDict(extra="forbid")

    phase: Phase
    status: PhaseStatus
    session_id: str | None = None
    """Known even when the phase timed out, if the CLI reported it before dying."""
    return_code: int | None = None
    timed_out: bool = False
    duration_seconds: float = 0.0
    message: str = ""
    """A human-readable reason, especially for failures."""
    prompt_path: Path | None = None
    stdout_path: Path | None = None
    stderr_path: Path | None = None
    transcript_path: Path | None = None
    usage: dict[str, int] = Field(default_factory=dict)
    """Token counts as the CLI reported them (input_tokens, output_tokens, ...)."""
    cost_usd: float | None = None
    """Cost as the CLI reported it (Claude's ``total_cost_usd``); None when the CLI reports none."""
    error_kind: str | None = None
    """A machine-readable failure class: ``budget_exhausted``, ``api_error``, ``turn_failed``, ``timeout``,
    ``not_started``, ``nonzero_exit``, ``interrupted`` ..."""
    permission_denials: list[str] = Field(default_factory=list)
    final_text: str | None = None
    """The agent's last message, when the CLI reports one."""
    details: dict[str, Any] = Field(default_factory=dict)
    """Runner-specific extras (model usage breakdown, number of turns, ...)."""
    goal: GoalReport | None = None
    """For a phase run in goal mode: the goal, how it ended, the turns and tokens it took."""
    mcp_delivery: McpDelivery | None = None
    """When the phase was handed an MCP server: whether the session got its tools (None otherwise)."""


class Runner(abc.ABC):
    """An agent CLI adapter. One instance serves a whole run; :meth:`aclose` is called at the end."""

    name: ClassVar[str]
    supports_goal: ClassVar[bool] = False
    """Whether :attr:`PhaseRequest.goal` is honoured (goal mode)."""

    @abc.abstractmethod
    async def run_phase(self, request: PhaseRequest) -> PhaseOutcome:
        """Run one phase to completion, timeout or cancellation. Must not raise for agent failures; a
        cancellation kills the agent's whole process tree and then propagates."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release anything held across phases."""
