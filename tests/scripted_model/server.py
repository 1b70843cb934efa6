"""A scripted model server: the Anthropic Messages API and the OpenAI Responses API on 127.0.0.1, from a script.

Real Claude Code and Codex CLIs are pointed at it (``ANTHROPIC_BASE_URL=<base_url>``; a Codex provider with
``base_url=<base_url>/v1`` and ``wire_api="responses"``) so that tests drive the real agents without a network.
This file uses only the standard library and runs as a script too::

    python tests/scripted_model/server.py --script S.json --port-file P --log L.jsonl [--lifetime 300]

It serves ``POST /v1/messages`` (``?beta=true``; SSE when ``stream`` is true, else one JSON message),
``POST /v1/messages/count_tokens``, ``POST /v1/responses`` (SSE or JSON), answers ``HEAD /`` with 200, logs every
request as one JSON line, writes its port to the port file once it listens, and stops itself after ``lifetime``
seconds. It must never contact anything, and never run longer than its lifetime.

Script format (JSON)::

    {
      "usage": {"input_tokens": 100, "output_tokens": 20},   # default usage of every reply (optional)
      "scripts": [
        {"marker": "HG_PROBE", "steps": [STEP, STEP, ...]},  # checked in order; the first marker found wins
        {"marker": "HG_COSTLY", "usage": {"input_tokens": 100000}, "steps": [...]},  # usage for this script
        ...
      ],
      "fallback": "text to answer when no marker matches"     # optional
    }

A request is matched to a script by the **latest user message that contains a marker** (text blocks only, not
tool results); its **step** is the number of tool results sent after that message (Anthropic ``tool_result``
blocks, Responses ``*_output`` items). Step ``n`` gets ``steps[n]``; past the end the last step is repeated when
it is a final text, otherwise the reply is the text ``"script <marker> exhausted"``, so a loop always ends.
Write every script so that it ends in a final text.

A STEP is an object with any of:

* ``"text": "..."``: assistant text. Without a tool it is the final answer (``end_turn``).
* ``"tool": NAME`` with ``"arguments": {...}`` (``"input"`` is accepted too), or ``"tool": [{"name": ...,
  "arguments": {...}}, ...]``: one tool call. With a list, the first alternative whose name the request offers
  is used (``Bash`` ``{"command"}`` for Claude, ``exec_command`` ``{"cmd"}`` for Codex). MCP tools are named
  ``mcp__<server>__<tool>``: flat for Claude, split into Codex's ``namespace`` (``mcp__<server>``) + ``name``.
* ``"error": 500`` or ``{"status": 400, "message": "..."}``: answer with that HTTP error instead.
* ``"stall": SECONDS``: wait that long (or until the server stops) before answering; a step with nothing but a
  stall closes the connection without an answer.
* ``"usage": {"input_tokens": N, "output_tokens": M}``: the usage reported for this reply.

Goal mode (:mod:`goals`): ``"continue": true`` also counts plain user messages after the marker's as steps
(Claude's stop-hook feedback, Codex's goal continuations); ``"judge"`` answers Claude Code's stop-condition
evaluator; a step's ``"when_file"`` waits for a workspace file (e.g. before Codex's ``update_goal``).

Every request is logged as ``{"seq", "time", "method", "path", "api", "headers", "body", "script", "step",
"reply"}``; ``reply`` says what was answered (``{"kind": "text"|"tool"|"error"|"stall"|..., ...}``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

try:
    from .goals import evaluator_condition, gate_step, judge_reply
except ImportError:  # run as a script: this folder is on sys.path
    from goals import evaluator_condition, gate_step, judge_reply  # type: ignore[no-redef]

__all__ = ["ModelServer", "main"]

DEFAULT_USAGE = {"input_tokens": 100, "output_tokens": 20}
_REDACT = re.compile(r"key|auth|token|secret|cookie", re.IGNORECASE)


def _text_of(content: Any) -> str:
    """The plain text of a message's content (strings and text blocks; tool results are skipped)."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") in ("text", "input_text") and "text" in block:
                parts.append(str(block["text"]))
    return "\n".join(parts)


class Script:
    """The parsed script plus the matching rule."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.usage: dict[str, int] = {**DEFAULT_USAGE, **data.get("usage", {})}
        self.scripts: list[dict[str, Any]] = list(data.get("scripts", []))
        self.fallback: str = str(data.get("fallback", "No script matched this conversation."))

    def _match(self, text: str) -> dict[str, Any] | None:
        for script in self.scripts:
            if str(script["marker"]) in text:
                return script
        return None

    def select(self, turns: list[tuple[str, int]]) -> tuple[dict[str, Any] | None, int]:
        """``turns``: (user text, tool results in that message) per message, oldest first."""
        for index in range(len(turns) - 1, -1, -1):
            script = self._match(turns[index][0])
            if script is not None:
                later = turns[index + 1 :]
                step = sum(results for _, results in later)
                if script.get("continue"):
                    step += sum(1 for text, results in later if results == 0 and text.strip())
                return script, step
        return None, 0

    def step(self, script: dict[str, Any] | None, step: int) -> dict[str, Any]:
        if script is None:
            return {"text": self.fallback}
        steps: list[dict[str, Any]] = script.get("steps", [])
        if step < len(steps):
            return steps[step]
        if steps and "text" in steps[-1] and "tool" not in steps[-1] and "error" not in steps[-1]:
            return steps[-1]
        return {"text": f"script {script['marker']} exhausted"}


def _alternatives(step: dict[str, Any]) -> list[tuple[str, Any]]:
    tool = step["tool"]
    if isinstance(tool, list):
        return [(str(alt["name"]), alt.get("arguments", alt.get("input", {}))) for alt in tool]
    return [(str(tool), step.get("arguments", step.get("input", {})))]


def _choose(step: dict[str, Any], offered: set[str]) -> tuple[str, Any, bool]:
    alternatives = _alternatives(step)
    for name, arguments in alternatives:
        if name in offered:
            return name, arguments, True
    name, arguments = alternatives[0]
    return name, arguments, False


def _sse(events: list[tuple[str, dict[str, Any]]]) -> bytes:
    return b"".join(
        f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode() for name, data in events
    )


# ---------------------------------------------------------------- Anthropic Messages


def _anthropic_turns(body: dict[str, Any]) -> list[tuple[str, int]]:
    turns: list[tuple[str, int]] = []
    for message in body.get("messages", []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        results = 0
        if isinstance(content, list):
            results = sum(1 for b in content if isinstance(b, dict) and b.get("type") == "tool_result")
        turns.append((_text_of(content), results))
    return turns


def _anthropic_message(
    step: dict[str, Any], body: dict[str, Any], usage: dict[str, int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    offered = {str(t.get("name")) for t in body.get("tools", []) if isinstance(t, dict)}
    content: list[dict[str, Any]] = []
    reply: dict[str, Any] = {"kind": "text"}
    if step.get("text"):
        content.append({"type": "text", "text": str(step["text"])})
    if "tool" in step:
        name, arguments, was_offered = _choose(step, offered)
        content.append({"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": name, "input": arguments})
        reply = {"kind": "tool", "tool": name, "offered": was_offered}
    elif not content:
        content.append({"type": "text", "text": ""})
    message = {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "mock-model"),
        "content": content,
        "stop_reason": "tool_use" if "tool" in step else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": usage["input_tokens"],
            "output_tokens": usage["output_tokens"],
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    return message, reply


def _anthropic_stream(message: dict[str, Any]) -> bytes:
    start = {**message, "content": [], "stop_reason": None, "usage": {**message["usage"], "output_tokens": 1}}
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                )
            )
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            opened = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            events.append(
                ("content_block_start", {"type": "content_block_start", "index": index, "content_block": opened})
            )
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return _sse(events)


# ---------------------------------------------------------------- OpenAI Responses


def _responses_turns(body: dict[str, Any]) -> list[tuple[str, int]]:
    turns: list[tuple[str, int]] = []
    items = body.get("input", [])
    if isinstance(items, str):
        return [(items, 0)]
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type", "message") == "message" and item.get("role") == "user":
            turns.append((_text_of(item.get("content")), 0))
        elif str(item.get("type", "")).endswith("_output") and item.get("name") != "goal_objective":
            turns.append(("", 1))  # Codex hands a goal's objective over as a goal_objective output: not a step
    return turns


def _responses_offered(body: dict[str, Any]) -> tuple[set[str], dict[str, tuple[str | None, str, str]]]:
    """Flat names offered, and for each flat name its (namespace, name, type)."""
    index: dict[str, tuple[str | None, str, str]] = {}
    for tool in body.get("tools", []):
        if not isinstance(tool, dict):
            continue
        kind = str(tool.get("type", "function"))
        if kind == "namespace":
            for sub in tool.get("tools", []):
                if isinstance(sub, dict) and "name" in sub:
                    flat = f"{tool['name']}__{sub['name']}"
                    index[flat] = (str(tool["name"]), str(sub["name"]), str(sub.get("type", "function")))
        elif "name" in tool:
            index[str(tool["name"])] = (None, str(tool["name"]), kind)
        else:
            index[kind] = (None, kind, kind)
    return set(index), index


def _responses_output(step: dict[str, Any], body: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    output: list[dict[str, Any]] = []
    reply: dict[str, Any] = {"kind": "text"}
    if step.get("text") or "tool" not in step:
        output.append(
            {
                "type": "message",
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": str(step.get("text", "")), "annotations": []}],
            }
        )
    if "tool" in step:
        offered, index = _responses_offered(body)
        flat, arguments, was_offered = _choose(step, offered)
        namespace, name, kind = index.get(flat, (None, flat, "function"))
        if namespace is None and flat.startswith("mcp__") and flat not in offered:
            server, _, rest = flat[len("mcp__") :].partition("__")
            namespace, name = f"mcp__{server}", rest
        call_id = f"call_{uuid.uuid4().hex[:24]}"
        item: dict[str, Any]
        if kind == "custom":
            text = arguments if isinstance(arguments, str) else json.dumps(arguments)
            item = {"type": "custom_tool_call", "id": f"ctc_{call_id}", "call_id": call_id, "name": name, "input": text}
        else:
            item = {
                "type": "function_call",
                "id": f"fc_{call_id}",
                "call_id": call_id,
                "name": name,
                "arguments": json.dumps(arguments),
                "status": "completed",
            }
            if namespace is not None:
                item["namespace"] = namespace
        output.append(item)
        reply = {"kind": "tool", "tool": flat, "offered": was_offered}
    return output, reply


def _responses_object(
    output: list[dict[str, Any]], body: dict[str, Any], usage: dict[str, int], status: str
) -> dict[str, Any]:
    return {
        "id": f"resp_{uuid.uuid4().hex[:24]}",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": body.get("model", "mock-model"),
        "output": output,
        "usage": {
            "input_tokens": usage["input_tokens"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage["output_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage["input_tokens"] + usage["output_tokens"],
        },
    }


def _responses_stream(output: list[dict[str, Any]], body: dict[str, Any], usage: dict[str, int]) -> bytes:
    seq = iter(range(1_000_000))
    created = _responses_object([], body, usage, "in_progress")
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"type": "response.created", "sequence_number": next(seq), "response": created})
    ]
    for position, item in enumerate(output):
        if item["type"] == "message":
            opened = {**item, "status": "in_progress", "content": []}
            events.append(
                (
                    "response.output_item.added",
                    {
                        "type": "response.output_item.added",
                        "sequence_number": next(seq),
                        "output_index": position,
                        "item": opened,
                    },
                )
            )
            events.append(
                (
                    "response.output_text.delta",
                    {
                        "type": "response.output_text.delta",
                        "sequence_number": next(seq),
                        "item_id": item["id"],
                        "output_index": position,
                        "content_index": 0,
                        "delta": item["content"][0]["text"],
                    },
                )
            )
        else:
            events.append(
                (
                    "response.output_item.added",
                    {
                        "type": "response.output_item.added",
                        "sequence_number": next(seq),
                        "output_index": position,
                        "item": item,
                    },
                )
            )
        events.append(
            (
                "response.output_item.done",
                {
                    "type": "response.output_item.done",
                    "sequence_number": next(seq),
                    "output_index": position,
                    "item": item,
                },
            )
        )
    done = {**created, "status": "completed", "output": output}
    events.append(
        ("response.completed", {"type": "response.completed", "sequence_number": next(seq), "response": done})
    )
    return _sse(events)


# ---------------------------------------------------------------- HTTP


class ModelServer:
    """The server; ``start()`` listens on 127.0.0.1 (port 0 by default) and serves from a daemon thread."""

    def __init__(self, script: dict[str, Any], log_path: Path, *, port: int = 0, lifetime: float = 300.0) -> None:
        self.script = Script(script)
        self.log_path = log_path
        self.lifetime = lifetime
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._seq = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.touch()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        if self._timer is not None:
            self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()

    def wait(self) -> None:
        self.stopped.wait()

    def _log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, "time": time.time(), **entry}
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the JSON log is the record
                return

            def _send(self, status: int, payload: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                if content_type == "text/event-stream":
                    self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
                self.close_connection = True

            def do_HEAD(self) -> None:
                server._log({"method": "HEAD", "path": self.path, "api": None})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True

            def do_GET(self) -> None:
                server._log({"method": "GET", "path": self.path, "api": None})
                self._send(404, b'{"error":{"message":"not found"}}', "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_unparsed": raw.decode(errors="replace")}
                path = self.path.split("?", 1)[0]
                headers = {k.lower(): ("<redacted>" if _REDACT.search(k) else v) for k, v in self.headers.items()}
                entry: dict[str, Any] = {"method": "POST", "path": self.path, "headers": headers, "body": body}
                if path.endswith("/messages/count_tokens"):
                    server._log({**entry, "api": "anthropic", "reply": {"kind": "count_tokens"}})
                    self._send(200, b'{"input_tokens":100}', "application/json")
                elif path.endswith("/messages"):
                    self._answer(entry, body, "anthropic")
                elif path.endswith("/responses"):
                    self._answer(entry, body, "openai")
                else:
                    server._log({**entry, "api": None, "reply": {"kind": "not_found"}})
                    self._send(404, b'{"error":{"message":"not found"}}', "application/json")

            def _answer(self, entry: dict[str, Any], body: dict[str, Any], api: str) -> None:
                condition = evaluator_condition(body) if api == "anthropic" else None
                turns = _anthropic_turns(body) if api == "anthropic" else _responses_turns(body)
                script, step_index = server.script.select(turns)
                if condition is not None:  # Claude Code's stop-condition evaluator: a JSON verdict as text
                    script = server.script._match(condition) or script
                    step = {"text": json.dumps(judge_reply(script, body))}
                else:
                    step = gate_step(server.script.step(script, step_index), body)
                entry = {**entry, "api": api, "script": script["marker"] if script else None, "step": step_index}
                if "stall" in step:
                    server.stopped.wait(float(step["stall"]))
                    if not ({"text", "tool", "error"} & set(step)) or server.stopped.is_set():
                        server._log({**entry, "reply": {"kind": "stall"}})
                        self.close_connection = True
                        return
                usage = {**server.script.usage, **(script or {}).get("usage", {}), **step.get("usage", {})}
                if "error" in step:
                    error = step["error"] if isinstance(step["error"], dict) else {"status": int(step["error"])}
                    status = int(error.get("status", 500))
                    text = str(error.get("message", f"scripted error {status}"))
                    if api == "anthropic":
                        kind = "invalid_request_error" if status == 400 else "api_error"
                        payload: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": text}}
                    else:
                        payload = {"error": {"message": text, "type": "server_error", "code": None}}
                    server._log({**entry, "reply": {"kind": "error", "status": status}})
                    self._send(status, json.dumps(payload).encode(), "application/json")
                    return
                stream = bool(body.get("stream"))
                if api == "anthropic":
                    message, reply = _anthropic_message(step, body, usage)
                    data = _anthropic_stream(message) if stream else json.dumps(message).encode()
                else:
                    output, reply = _responses_output(step, body)
                    data = (
                        _responses_stream(output, body, usage)
                        if stream
                        else json.dumps(_responses_object(output, body, usage, "completed")).encode()
                    )
                if condition is not None:
                    reply, entry["step"] = {"kind": "judge", **json.loads(step["text"])}, None
                server._log({**entry, "reply": reply})
                self._send(200, data, "text/event-stream" if stream else "application/json")

        return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scripted Anthropic/OpenAI model server for tests.")
    parser.add_argument("--script", type=Path, required=True, help="the JSON script")
    parser.add_argument("--log", type=Path, required=True, help="request log (JSON lines)")
    parser.add_argument("--port-file", type=Path, required=True, help="written with the port once listening")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=300.0, help="stop after this many seconds")
    args = parser.parse_args(argv)
    server = ModelServer(json.loads(args.script.read_text()), args.log, port=args.port, lifetime=args.lifetime)
    server.start()
    tmp = args.port_file.with_name(args.port_file.name + f".{os.getpid()}.tmp")
    tmp.write_text(str(server.port))
    os.replace(tmp, args.port_file)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
