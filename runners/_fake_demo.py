"""The fake agent's default script: the offline demo on ``examples/numerical_debug_task``.

It plays what the README's first command shows. Iteration 1's attempt runs the verifier, sees it fail and
reports itself blocked for want of an instrument; the reflection picks an MCP server; the build writes
``numcheck`` (a stdlib MCP server speaking newline-delimited JSON, whose ``failing_cases`` tool runs the
verifier and lists the inputs that fail) and registers it. harnessgym qualifies the server and the host serves
it, so iteration 2's fresh attempt calls ``numcheck__failing_cases`` through the host (``harnessgym mcp call``,
from the agent's shell, as an agent without native MCP tools would) before it fixes ``numerics.py``. The call is
one line of ``.harnessgym/mcp_calls.jsonl``, tagged with the run id, iteration 2 and the attempt phase.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DEMO_SCRIPT", "NUMCHECK_MANIFEST", "NUMCHECK_SERVER"]

NUMCHECK_SERVER = '''"""numcheck: an MCP server on stdio (newline-delimited JSON) for the numerics task.

Its one tool, failing_cases, runs `python verifier.py` in the workspace and returns which inputs fail and why,
with the fraction that fails. `--self-test` checks the tool list and that the verifier yields a verdict.
"""
import json
import subprocess
import sys

TOOLS = [{
    "name": "failing_cases",
    "description": "Run verifier.py and list the inputs that fail, each with the reason, and the failing fraction.",
    "inputSchema": {"type": "object", "properties": {}, "additionalProperties": False},
}]


def failing_cases():
    proc = subprocess.run([sys.executable, "verifier.py"], capture_output=True, text=True, timeout=60)
    try:
        verdict = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "verifier.py printed no JSON verdict", "stdout": proc.stdout[-2000:]}
    return {"status": verdict.get("status"), "failing_fraction": verdict.get("score"),
            "failing": verdict.get("failures", {})}


def handle(message):
    method, mid = message.get("method"), message.get("id")
    if mid is None:  # a notification: nothing to answer
        return None
    if method == "initialize":
        version = (message.get("params") or {}).get("protocolVersion", "2025-06-18")
        result = {"protocolVersion": version, "capabilities": {"tools": {}},
                  "serverInfo": {"name": "numcheck", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call" and (message.get("params") or {}).get("name") == "failing_cases":
        result = {"content": [{"type": "text", "text": json.dumps(failing_cases())}], "isError": False}
    elif method == "ping":
        result = {}
    else:
        return {"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": f"unknown method {method}"}}
    return {"jsonrpc": "2.0", "id": mid, "result": result}


def main():
    if "--self-test" in sys.argv:
        listed = handle({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})["result"]["tools"]
        report = failing_cases()
        ok = [t["name"] for t in listed] == ["failing_cases"] and "status" in report
        print(json.dumps({"self_test": "passed" if ok else "failed", "verifier_status": report.get("status")}))
        return 0 if ok else 1
    for line in sys.stdin:
        if not line.strip():
            continue
        reply = handle(json.loads(line))
        if reply is not None:
            sys.stdout.write(json.dumps(reply) + "\\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

NUMCHECK_MANIFEST: dict[str, Any] = {
    "name": "numcheck",
    "command": "python3",
    "args": [".harnessgym/mcp/numcheck/server.py"],
    "framing": "newline",
    "enabled_tools": ["failing_cases"],
    "self_test": True,
    "description": "runs verifier.py and lists the failing inputs with their reasons",
    "timeouts": {"startup_seconds": 10, "tool_seconds": 60, "self_test_seconds": 30},
}

_FIX_OLD = "    return math.log(sum(math.exp(x) for x in xs))"
_FIX_NEW = "    m = max(xs)\n    return m + math.log(sum(math.exp(x - m) for x in xs))"
_ENTRY = {"kind": "mcp", "path": ".harnessgym/mcp/numcheck/harnessgym-mcp.json",
          "description": NUMCHECK_MANIFEST["description"]}  # fmt: skip

DEMO_SCRIPT: dict[str, Any] = {
    "steps": [
        {"phase": "attempt", "iteration": 1, "actions": [
            {"do": "run", "argv": ["{python}", "verifier.py"], "optional": True},
            {"do": "result", "set": {
                "status": "blocked", "verified": False,
                "summary": "logsumexp fails on some inputs; I could not see which cases or why",
                "blockers": ["no instrument that shows the failing cases"],
                "missing_tooling": ["an MCP tool that runs the verifier and lists the failing cases"]}}]},
        {"phase": "reflection", "actions": [{"do": "result", "set": {"reflection": {
            "recommendations": ["an MCP server listing failing verifier cases", "a skill on stable log-sum-exp"],
            "selected_improvement": {"kind": "mcp", "name": "numcheck",
                                     "reason": "see the failing cases at once, from any session",
                                     "target_path": ".harnessgym/mcp/numcheck"}}}}]},
        {"phase": "build", "actions": [
            {"do": "write", "path": ".harnessgym/mcp/numcheck/server.py", "text": NUMCHECK_SERVER},
            {"do": "write", "path": ".harnessgym/mcp/numcheck/harnessgym-mcp.json",
             "text": json.dumps(NUMCHECK_MANIFEST, indent=2)},
            {"do": "register", "entry": _ENTRY},
            {"do": "result", "set": {"status": "tooling_built", "verification": {"tooling_tests": [
                {"name": "numcheck", "status": "passed",
                 "command": "python3 .harnessgym/mcp/numcheck/server.py --self-test"}]}}}]},
        {"phase": "attempt", "actions": [
            {"do": "mcp_call", "server": "numcheck", "tool": "failing_cases", "optional": True},
            {"do": "replace", "path": "numerics.py", "old": _FIX_OLD, "new": _FIX_NEW, "optional": True},
            {"do": "run", "argv": ["{python}", "verifier.py"], "optional": True},
            {"do": "result", "set": {"status": "solved", "verified": True,
                                     "summary": "numcheck showed overflow on large inputs; shifted log-sum-exp by "
                                                "the maximum, and the verifier passes",
                                     "used_harness_tools": ["numcheck__failing_cases"]}}]},
    ]
}  # fmt: skip
