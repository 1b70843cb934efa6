"""A tiny newline-delimited JSON MCP server for runner tests (standard library only; run as a script).

Tools: ``write_marker {"text"}`` writes ``mcp_marker.txt`` in its cwd and ``echo {"text"}`` returns the text.
Every message it receives is appended to ``$PROBE_LOG`` (JSON lines), followed by one line describing its
environment: ``{"env": {"cwd", "has_anthropic_key", "phase_tag", "probe_value"}}``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

TOOLS = [
    {
        "name": "write_marker",
        "description": "Write a marker file in the working directory.",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    },
    {
        "name": "echo",
        "description": "Return the text.",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    },
]


def _log(entry: dict[str, Any]) -> None:
    path = os.environ.get("PROBE_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")


def _answer(message: dict[str, Any]) -> dict[str, Any] | None:
    method = message.get("method")
    if "id" not in message:
        return None
    if method == "initialize":
        version = message.get("params", {}).get("protocolVersion", "2025-06-18")
        result: dict[str, Any] = {
            "protocolVersion": version,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "probe", "version": "1.0"},
        }
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        params = message.get("params", {})
        text = str(params.get("arguments", {}).get("text", ""))
        if params.get("name") == "write_marker":
            Path("mcp_marker.txt").write_text(text)
            result = {"content": [{"type": "text", "text": f"wrote {len(text)} characters"}]}
        else:
            result = {"content": [{"type": "text", "text": text}]}
    elif method == "ping":
        result = {}
    else:
        return {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": f"no method {method}"}}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


def main() -> int:
    _log(
        {
            "env": {
                "cwd": os.getcwd(),
                "has_anthropic_key": "ANTHROPIC_API_KEY" in os.environ,
                "phase_tag": os.environ.get("HARNESSGYM_PROC_TAG"),
                "probe_value": os.environ.get("PROBE_VALUE"),
            }
        }
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        _log(message)
        reply = _answer(message)
        if reply is not None:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
