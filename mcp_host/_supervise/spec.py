"""The frozen description of one MCP server that the rest of harnessgym passes around."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from mcp_host._wire.framing import Framing

__all__ = ["DEFAULT_SELF_TEST", "DEFAULT_STARTUP", "DEFAULT_TOOL", "SelfTestSpec", "ServerSpec"]

DEFAULT_STARTUP = 10.0
"""Seconds for start + initialize + tools/list when the manifest names none (as upstream)."""
DEFAULT_TOOL = 60.0
"""Seconds for one tools/call when the manifest names none (as upstream)."""
DEFAULT_SELF_TEST = 20.0
"""Seconds for the self-test when the manifest names none (as upstream)."""


class SelfTestSpec(BaseModel):
    """How to run a server's self-test."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    argv: tuple[str, ...]
    """The command line."""
    cwd: Path
    """Where it runs."""
    timeout: float
    """Seconds before its process tree is killed and the self-test counts as timed out."""


class ServerSpec(BaseModel):
    """One MCP server, as its manifest describes it, with every path resolved."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """Sanitised name (``[A-Za-z0-9_-]``), the prefix of its tools on the host."""
    manifest_path: Path
    """The manifest file it was read from."""
    command: str
    """The program to run."""
    args: tuple[str, ...] = ()
    """Its arguments."""
    cwd: Path
    """Its working directory."""
    env: dict[str, str] = {}
    """Variables the manifest adds to the scrubbed environment (secret-named ones already removed)."""
    framing: Framing = "auto"
    """How it frames messages on stdio; ``auto`` detects."""
    startup_timeout: float = DEFAULT_STARTUP
    """Seconds for start + initialize + tools/list."""
    tool_timeout: float = DEFAULT_TOOL
    """Seconds for one tools/call."""
    self_test: SelfTestSpec | None = None
    """Its self-test; None when the manifest configures none (which fails qualification, as upstream)."""
    enabled_tools: tuple[str, ...] | None = None
    """Only these tools are offered; None offers all."""
    digest: str = ""
    """sha256 over the normalised spec, the manifest's directory and the files its command line names."""
    warnings: tuple[str, ...] = ()
    """What was tolerated or corrected while reading (dropped secret variables, a rewritten cwd, ...)."""

    @property
    def argv(self) -> list[str]:
        return [self.command, *self.args]
