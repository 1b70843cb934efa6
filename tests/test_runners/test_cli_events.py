"""What the CLI runners share: an event a parser fails on is logged and kept, and the events after it count."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from support.real_clis import phase_request

from runners._claude import ClaudeRunner, _ClaudeEvents
from runners._options import RunnerOptions

pytestmark = pytest.mark.anyio

_LINES: list[dict[str, Any]] = [
    {"type": "system", "subtype": "init", "session_id": "s-early", "mcp_servers": [], "tools": []},
    {"type": "assistant", "session_id": "s-late", "message": {"content": [{"type": "text", "text": "after it"}]}},
    {"type": "result", "subtype": "success", "is_error": False, "session_id": "s-late", "result": "done"},
]


def _fake_claude(tmp_path: Path, lines: list[dict[str, Any]]) -> ClaudeRunner:
    """The Claude runner, driving a stand-in CLI that ignores its arguments and streams ``lines`` as events."""
    script = tmp_path / "claude"
    body = "".join(f"print({json.dumps(json.dumps(line))}, flush=True)\n" for line in lines)
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(0o755)
    return ClaudeRunner(RunnerOptions(claude_bin=str(script)))


async def test_an_event_the_parser_fails_on_is_logged_kept_as_text_and_the_session_and_lines_after_it_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = _ClaudeEvents.handle

    def buggy(self: _ClaudeEvents, event: dict[str, Any]) -> None:
        if event.get("subtype") == "init":
            raise KeyError("a parser bug")
        handle(self, event)

    monkeypatch.setattr(_ClaudeEvents, "handle", buggy)
    request = phase_request(tmp_path, "attempt", "go")
    with caplog.at_level(logging.ERROR, logger="runners._cli_events"):
        outcome = await _fake_claude(tmp_path, _LINES).run_phase(request)

    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.name == "runners._cli_events" and "could not read the CLI event" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    assert (outcome.status, outcome.session_id, outcome.final_text) == ("completed", "s-late", "done")
    transcript = request.transcript_path.read_text()
    assert '"subtype": "init"' in transcript, "the event the parser failed on is kept as text"
    assert "assistant: after it" in transcript and "result: success" in transcript


async def test_an_init_event_of_an_unexpected_shape_is_read_without_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    odd = [{**_LINES[0], "mcp_servers": 5}, *_LINES[1:]]  # a number where Claude Code sends a list
    request = phase_request(tmp_path, "attempt", "go")
    with caplog.at_level(logging.WARNING):
        outcome = await _fake_claude(tmp_path, odd).run_phase(request)

    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert outcome.details["mcp_servers"] == [] and outcome.session_id == "s-late"
    assert "init: session s-early" in request.transcript_path.read_text()
