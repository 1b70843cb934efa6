"""HarnessGym 0.1.1's names for a trial's fields, kept beside harnessgym's own in ``trial.json`` and
``compare_report.json`` so the scripts its users wrote (its report checker among them) read our reports.

They are derived from harnessgym's fields by :func:`fill_upstream` just before a trial is written, never read
back to decide anything: harnessgym's own fields (``valid``, ``post``, ``active_artifacts`` ...) stay the
truth, and these only repeat it under the old names.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from harnessgym.compare.models import CompareConfig, TrialRecord

__all__ = ["HarnessValidation", "McpTelemetry", "UpstreamIteration", "UpstreamPost", "fill_upstream"]


class UpstreamPost(BaseModel):
    """``post_result``: the post command's run, as 0.1.1 recorded it (its JSON output is in ``post.payload``)."""

    model_config = ConfigDict(extra="forbid")

    command: str
    status: Literal["completed", "failed", "timeout", "error"]
    return_code: int | None = None
    timed_out: bool = False
    duration_seconds: float = 0.0
    stdout_path: Path | None = None
    stderr_path: Path | None = None
    score: float | None = None
    score_key: str = "score"


class HarnessValidation(BaseModel):
    """``harness_validation``: whether a harnessed trial had a working harness."""

    model_config = ConfigDict(extra="forbid")

    required: bool
    active_harness_required: bool
    tool_use_required: bool
    valid: bool
    reason: str | None = None
    active_mcp_count: int = 0
    """MCP servers handed to the session (the most over the attempts)."""
    active_tool_count: int = 0
    """Tools those servers listed when qualified (the most over the attempts)."""
    mcp_call_count: int = 0
    mcp_called_tools: list[str] = Field(default_factory=list)


class UpstreamIteration(BaseModel):
    """One row of ``iterations``: an attempt of the trial."""

    model_config = ConfigDict(extra="forbid")

    iteration: int
    status: str
    solved: bool
    attempt_status: str | None = None
    attempt_duration_seconds: float | None = None
    score: float | None = None
    active_mcp_count: int = 0
    active_tool_count: int = 0


class McpTelemetry(BaseModel):
    """``mcp_telemetry``: the host's record of the trial's MCP calls."""

    model_config = ConfigDict(extra="forbid")

    count: int = 0
    called_tools: list[str] = Field(default_factory=list)


def fill_upstream(record: TrialRecord, config: CompareConfig) -> None:
    """Set the 0.1.1-named fields of ``record`` from harnessgym's own."""
    record.trial = record.index
    record.comparison_valid = record.valid
    record.comparison_invalid_reason = record.invalid_reason or None
    post = record.post
    if post is not None:
        record.post_result = UpstreamPost.model_validate({
            "command": post.command, "status": post.status, "return_code": post.return_code,
            "timed_out": post.timed_out, "duration_seconds": post.duration_seconds,
            "stdout_path": post.stdout_path, "stderr_path": post.stderr_path,
            "score": post.score, "score_key": post.score_key,
        })  # fmt: skip
    record.objective_post_valid = post is not None and post.passed and post.score is not None
    record.post_valid = record.objective_post_valid and record.valid
    if post is None:
        record.post_invalid_reason = "no post command was run" if config.post_command else None
    elif not record.post_valid:
        record.post_invalid_reason = (
            record.invalid_reason if not record.valid
            else post.message or f"the post command {post.status} without a numeric {post.score_key}"
        )  # fmt: skip
    record.post_treated_as_worst = post is not None and not record.post_valid
    record.mcp_called_tools = list(record.mcp_tools_called)
    record.mcp_telemetry = McpTelemetry(count=record.mcp_call_count, called_tools=list(record.mcp_tools_called))
    if record.group == "harnessed":
        reason = record.invalid_reason if record.invalid_kind in ("no_active_harness", "no_harness_tool_use") else None
        record.harness_validation = HarnessValidation(
            required=config.require_active_harness or config.require_harness_tool_use,
            active_harness_required=config.require_active_harness,
            tool_use_required=config.require_harness_tool_use, valid=reason is None, reason=reason,
            active_mcp_count=record.active_mcp_count, active_tool_count=record.active_tool_count,
            mcp_call_count=record.mcp_call_count, mcp_called_tools=list(record.mcp_tools_called),
        )  # fmt: skip
