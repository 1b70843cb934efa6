"""Every runner's name, declared once (standard library only, so naming a runner loads none of them)."""

from __future__ import annotations

from typing import Literal

__all__ = ["RunnerName"]

RunnerName = Literal["fake", "claude", "codex", "exec", "tui-goal"]
"""The runners there are: ``exec`` is Codex under HarnessGym 0.1.1's name, ``tui-goal`` Codex in goal mode."""
