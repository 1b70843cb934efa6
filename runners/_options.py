"""Options for every runner, in one frozen model so a run config can carry them and persist them."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RunnerOptions"]


class RunnerOptions(BaseModel):
    """How to drive the agent CLI. Fields for other runners are ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # fake
    fake_script: Path | None = None
    """A JSON script for the fake agent (see ``runners.fake_agent``); None runs the built-in demo script."""
    fake_home: Path | None = None
    """Where the fake agent keeps its sessions (like ``~/.claude``); None uses a folder in the temp dir."""

    # claude
    claude_bin: str = "claude"
    claude_model: str | None = None
    claude_permission_mode: str = "bypassPermissions"
    claude_max_budget_usd: float | None = None
    claude_extra_args: tuple[str, ...] = ()
    """Appended verbatim to every claude invocation."""

    # codex
    codex_bin: str = "codex"
    codex_model: str | None = None
    codex_sandbox: str | None = None
    """``read-only``, ``workspace-write`` or ``danger-full-access``; None bypasses approvals and sandbox."""
    codex_config: tuple[str, ...] = ()
    """``KEY=VALUE`` pairs passed as ``-c KEY=<json(VALUE)>``."""

    agent_env: dict[str, str] = Field(default_factory=dict)
    """Extra environment for the agent CLI (e.g. a model endpoint); merged over the parent environment."""
