"""The scripted model server itself: script matching, both wire formats, errors, stalls, subprocess mode."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from scripted_model import scripted_model

SCRIPT: dict[str, Any] = {
    "scripts": [
        {
            "marker": "HG_TWO",
            "steps": [
                {
                    "tool": [
                        {"name": "Bash", "arguments": {"command": "ls"}},
                        {"name": "exec_command", "arguments": {"cmd": "ls"}},
                    ]
                },
                {"tool": "mcp__harnessgym__calc__add", "arguments": {"a": 1, "b": 2}},
                {"text": "two done", "usage": {"input_tokens": 7, "output_tokens": 3}},
            ],
        },
        {"marker": "HG_FAIL", "steps": [{"error": {"status": 400, "message": "nope"}}]},
        {"marker": "HG_STALL", "steps": [{"stall": 30}]},
    ]
}


def _post(url: str, body: dict[str, Any], timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _sse_data(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[len("data: ") :]) for line in text.splitlines() if line.startswith("data: ")]


def _anthropic(messages: list[dict[str, Any]], tools: list[str]) -> dict[str, Any]:
    return {"model": "m", "stream": True, "messages": messages, "tools": [{"name": t} for t in tools]}


def test_steps_follow_tool_results_since_the_latest_marked_prompt_in_anthropic_format(tmp_path: Path) -> None:
    with scripted_model(SCRIPT, tmp_path) as model:
        url = model.base_url + "/v1/messages?beta=true"
        user = {"role": "user", "content": [{"type": "text", "text": "old HG_FAIL"}]}
        prompt = {"role": "user", "content": [{"type": "text", "text": "now HG_TWO"}]}
        result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "ok"}]}
        tools = ["Bash", "mcp__harnessgym__calc__add"]

        _, first = _post(url, _anthropic([user, prompt], tools))
        _, second = _post(url, _anthropic([user, prompt, result], tools))
        _, third = _post(url, _anthropic([user, prompt, result, result], tools))

        start = next(e for e in _sse_data(first) if e["type"] == "content_block_start")["content_block"]
        assert start["type"] == "tool_use" and start["name"] == "Bash"
        delta = next(e for e in _sse_data(first) if e["type"] == "content_block_delta")["delta"]
        assert json.loads(delta["partial_json"]) == {"command": "ls"}
        assert next(e for e in _sse_data(second) if e["type"] == "content_block_start")["content_block"]["name"] == (
            "mcp__harnessgym__calc__add"
        )
        events = _sse_data(third)
        assert [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"] == ["two done"]
        assert events[-2]["usage"] == {"output_tokens": 3} and events[-2]["delta"]["stop_reason"] == "end_turn"
        assert [(r["script"], r["step"]) for r in model.requests("anthropic")] == [
            ("HG_TWO", 0),
            ("HG_TWO", 1),
            ("HG_TWO", 2),
        ]


def test_responses_format_picks_exec_command_and_splits_mcp_names_into_a_namespace(tmp_path: Path) -> None:
    with scripted_model(SCRIPT, tmp_path) as model:
        url = model.openai_base_url + "/responses"
        prompt = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "HG_TWO"}]}
        output = {"type": "function_call_output", "call_id": "c", "output": "ok"}
        tools = [
            {"type": "function", "name": "exec_command"},
            {"type": "namespace", "name": "mcp__harnessgym", "tools": [{"type": "function", "name": "calc__add"}]},
        ]
        _, first = _post(url, {"stream": True, "input": [prompt], "tools": tools})
        _, second = _post(url, {"stream": True, "input": [prompt, output], "tools": tools})

        call = next(e for e in _sse_data(first) if e["type"] == "response.output_item.done")["item"]
        assert call["name"] == "exec_command" and json.loads(call["arguments"]) == {"cmd": "ls"}
        mcp = next(e for e in _sse_data(second) if e["type"] == "response.output_item.done")["item"]
        assert (mcp["namespace"], mcp["name"]) == ("mcp__harnessgym", "calc__add")
        assert _sse_data(second)[-1]["type"] == "response.completed"


def test_subprocess_mode_serves_errors_and_stops_stalls_at_shutdown(tmp_path: Path) -> None:
    with scripted_model(SCRIPT, tmp_path, subprocess=True) as model:
        assert model.pid is not None
        prompt = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "HG_FAIL"}]}
        status, body = _post(model.openai_base_url + "/responses", {"stream": True, "input": [prompt]})
        assert status == 400 and json.loads(body)["error"]["message"] == "nope"
        # A stalled stream sends nothing more: the client's own 1 s read timeout is what ends the wait.
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            stall = {"role": "user", "content": "HG_STALL"}
            _post(model.base_url + "/v1/messages", {"stream": True, "messages": [stall]}, timeout=1)
    assert [r["reply"]["kind"] for r in model.requests() if r.get("api")] == ["error"]


def test_the_server_stops_itself_after_its_lifetime(tmp_path: Path) -> None:
    with scripted_model(SCRIPT, tmp_path, lifetime=0.5) as model:
        assert model.wait_stopped(timeout=10), "the server outlived its lifetime"
        with pytest.raises(OSError):
            urllib.request.urlopen(model.base_url + "/", timeout=1).close()
