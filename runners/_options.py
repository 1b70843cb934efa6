"""Options for every runner, in one frozen model so a run config can carry them and persist them.

This model is also the declaration of the runner flags of ``harnessgym run``/``compare`` and of the
``runner_options`` argument of the control server's tools, generated from its fields (see
:mod:`harnessgym.options`): a field's docstring is its help, ``json_schema_extra`` holds the front-end hints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

__all__ = ["RunnerName", "RunnerOptions"]

RunnerName = Literal["fake", "claude", "codex", "exec"]
"""Every runner's name, declared once; :data:`runners.RUNNERS` maps each to its class (``exec`` = ``codex``)."""

_AGENT: JsonDict = {"section": "Agent"}
_CLAUDE: JsonDict = {"section": "Claude Code"}
_CODEX: JsonDict = {"section": "Codex"}


class RunnerOptions(BaseModel):
    """How to drive the agent CLI. Fields for other runners are ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    # fake
    fake_script: Path | None = Field(default=None, json_schema_extra={**_AGENT, "path": {"exists": True,
                                                                                         "dir_okay": False}})
    """A JSON script for the fake agent (see ``runners.fake_agent``); None runs the built-in demo script."""
    fake_home: Path | None = Field(default=None, json_schema_extra=_AGENT)
    """Where the fake agent keeps its sessions (like ``~/.claude``); None uses a folder in the temp dir."""

    # claude
    claude_bin: str = Field(default="claude", json_schema_extra=_CLAUDE)
    """The Claude Code executable."""
    claude_model: str | None = Field(default=None, json_schema_extra=_CLAUDE)
    """The model Claude Code uses (``--model``); None keeps its own default."""
    claude_permission_mode: str = Field(default="bypassPermissions", json_schema_extra=_CLAUDE)
    """Claude Code's ``--permission-mode``."""
    claude_max_budget_usd: float | None = Field(default=None, json_schema_extra=_CLAUDE)
    """Claude Code's ``--max-budget-usd`` for each session."""
    claude_extra_args: tuple[str, ...] = Field(default=(), json_schema_extra={**_CLAUDE,
                                                                               "flags": ["--claude-extra-arg"]})
    """Appended verbatim to every claude invocation."""

    # codex
    codex_bin: str = Field(default="codex", json_schema_extra=_CODEX)
    """The Codex CLI executable."""
    codex_model: str | None = Field(default=None, json_schema_extra=_CODEX)
    """The model Codex uses (``--model``); None keeps its own default."""
    codex_sandbox: Literal["read-only", "workspace-write", "danger-full-access"] | None = Field(
        default=None, json_schema_extra=_CODEX
    )
    """Codex's sandbox; None bypasses approvals and sandbox."""
    codex_config: tuple[str, ...] = Field(default=(), json_schema_extra={**_CODEX, "metavar": "KEY=VALUE"})
    """``KEY=VALUE`` pairs passed as ``-c KEY=<json(VALUE)>``."""

    agent_env: dict[str, str] = Field(default_factory=dict, json_schema_extra=_AGENT)
    """Extra environment for the agent CLI (e.g. a model endpoint), ``NAME=VALUE``; merged over the parent
    environment."""
