"""Reading the host's telemetry as it grows (live progress) and counting calls per iteration and tool."""

from __future__ import annotations

import json
from pathlib import Path

from mcp_host import CallTail, summarize_calls


def _line(iteration: int, tool: str, **extra: object) -> str:
    record = {"created_at": "2026-01-01T00:00:00.000000Z", "server": "numcheck", "tool_name": tool,
              "run_id": "r", "iteration": iteration, "phase": "attempt", **extra}  # fmt: skip
    return json.dumps(record) + "\n"


def test_the_tail_returns_only_whole_lines_appended_since_the_last_read(tmp_path: Path) -> None:
    calls = tmp_path / ".harnessgym" / "mcp_calls.jsonl"
    calls.parent.mkdir()
    calls.write_text(_line(1, "old"))
    tail = CallTail(tmp_path)  # from the end: what was there before is not news
    assert tail.read_new() == []
    with open(calls, "a") as fh:
        fh.write(_line(2, "failing_cases") + "not json\n" + _line(2, "other")[:30])  # a torn last line
    assert [(r.iteration, r.tool_name) for r in tail.read_new()] == [(2, "failing_cases")]
    with open(calls, "a") as fh:
        fh.write(_line(2, "other")[30:])
    assert [r.tool_name for r in tail.read_new()] == ["other"]
    calls.write_text(_line(3, "again"))  # replaced by a shorter file: read from its start
    assert [r.tool_name for r in tail.read_new()] == ["again"]
    assert CallTail(tmp_path / "nowhere").read_new() == []


def test_calls_are_counted_per_iteration_and_tool(tmp_path: Path) -> None:
    calls = tmp_path / ".harnessgym" / "mcp_calls.jsonl"
    calls.parent.mkdir()
    calls.write_text(
        _line(1, "a") + _line(2, "a") + _line(2, "b") + _line(2, "b") + _line(2, "p", method="prompts/get")
    )
    assert summarize_calls(tmp_path, "r").by_iteration_tool == {1: {"numcheck__a": 1},
                                                                2: {"numcheck__a": 1, "numcheck__b": 2}}  # fmt: skip
