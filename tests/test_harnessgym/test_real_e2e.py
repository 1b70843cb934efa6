"""End to end: ``harnessgym run`` with the real Claude Code / Codex CLI against the scripted model server.

The scripted model plays a whole two-iteration run of the numerical-debug example:

1. iteration 1's attempt records that it is blocked (the verify command fails);
2. the reflection (same session, resumed) selects an MCP server, and the build (resumed again) writes it with
   a shell command: ``server.py`` + ``.harnessgym/mcp/numerics_probe/harnessgym-mcp.json`` + a registry entry,
   and runs its self-test;
3. qualification activates it in a clean copy of the workspace;
4. iteration 2's fresh session calls ``mcp__harnessgym__numerics_probe__run_verifier`` on its first turn
   through the run's host (the server is written with the MCP SDK, which takes about a second to start: the
   host offers its qualified tool list at once), fixes ``numerics.py`` and records a verified solve, which the
   verify command confirms.

Everything asserted is a side effect: files, the model's request log, the telemetry line of the MCP call.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from scripted_model import scripted_model
from support.real_clis import claude_env, codex_env, ensure_real_clis, write_codex_provider_config

from mcp_host import run_process

pytestmark = [pytest.mark.anyio, pytest.mark.real_cli, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "numerical_debug_task"
TOOL = "mcp__harnessgym__numerics_probe__run_verifier"
RUN_TIMEOUT = 240.0

# Marker phrases of the loop's prompts (harnessgym/loop/prompts/*.md); more specific first.
ATTEMPT_1 = "(iteration 1 of at most"
ATTEMPT_2 = "(iteration 2 of at most"
REFLECTION = "Reflect on the attempt you just made"
BUILD = "Build the improvement you selected"

MERGE_RESULT = """
import json, pathlib, sys
path = pathlib.Path(sys.argv[1])
update = json.loads(sys.argv[2])
data = json.loads(path.read_text()) if path.exists() and path.read_text().strip() else {}
def merge(a, b):
    for k, v in b.items():
        a[k] = merge(a.get(k, {}), v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
    return a
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text(json.dumps(merge(data, update), indent=2))
"""

SERVER = '''"""numerics_probe: an MCP server written with the MCP Python SDK; it runs verifier.py."""
import json, subprocess, sys


def run_verifier() -> str:
    """Run verifier.py; return its exit code and JSON verdict"""
    proc = subprocess.run([sys.executable, "verifier.py"], capture_output=True, text=True, timeout=60)
    return json.dumps({"returncode": proc.returncode, "stdout": proc.stdout[-4000:]})


def server():
    from mcp.server import MCPServer

    mcp = MCPServer("numerics_probe")
    mcp.tool()(run_verifier)
    return mcp


if "--self-test" in sys.argv:
    try:
        import anyio
        from mcp import Client
    except ImportError:  # the agent's own python3 has no MCP SDK: check what it can
        ok = "returncode" in run_verifier()
    else:
        async def listed():
            async with Client(server()) as client:
                return [t.name for t in (await client.list_tools()).tools]

        ok = anyio.run(listed) == ["run_verifier"]
    print(json.dumps({"self_test": "passed" if ok else "failed"}))
    sys.exit(0 if ok else 1)
server().run()
'''

MANIFEST = {
    "name": "numerics_probe",
    "command": "python3",
    "args": [".harnessgym/mcp/numerics_probe/server.py"],
    "enabled_tools": ["run_verifier"],
    "self_test": True,
    "description": "Runs verifier.py and returns its verdict",
}

BUILD_ARTIFACT = f"""
import json, pathlib, subprocess, sys
folder = pathlib.Path(".harnessgym/mcp/numerics_probe")
folder.mkdir(parents=True, exist_ok=True)
(folder / "server.py").write_text({SERVER!r})
(folder / "harnessgym-mcp.json").write_text({json.dumps(MANIFEST)!r})
registry_path = pathlib.Path(".harnessgym/registry.json")
registry = json.loads(registry_path.read_text()) if registry_path.exists() else {{"version": 1, "artifacts": []}}
entry = {{"kind": "mcp", "path": ".harnessgym/mcp/numerics_probe/harnessgym-mcp.json",
         "description": "runs verifier.py and returns its verdict"}}
registry.setdefault("artifacts", []).append(entry)
registry_path.write_text(json.dumps(registry, indent=2))
check = subprocess.run([sys.executable, str(folder / "server.py"), "--self-test"], capture_output=True, text=True)
print(check.stdout)
sys.exit(check.returncode)
"""

FIX = """
import pathlib
path = pathlib.Path("numerics.py")
old = "    return math.log(sum(math.exp(x) for x in xs))"
new = "    m = max(xs)\\n    return m + math.log(sum(math.exp(x - m) for x in xs))"
path.write_text(path.read_text().replace(old, new))
"""


def _py(code: str, *args: str) -> str:
    """A shell command running ``code`` with python3 (a heredoc keeps quoting simple)."""
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in args)
    return f"python3 - {quoted} <<'PYEOF'\n{code}\nPYEOF"


def _shell(command: str) -> dict[str, Any]:
    return {
        "tool": [
            {"name": "Bash", "arguments": {"command": command, "description": "scripted step"}},
            {"name": "exec_command", "arguments": {"cmd": command}},
        ]
    }


def _script(result_1: Path, result_2: Path) -> dict[str, Any]:
    def record(path: Path, update: dict[str, Any]) -> dict[str, Any]:
        return _shell(_py(MERGE_RESULT, str(path), json.dumps(update)))

    blocked = {
        "status": "blocked",
        "verified": False,
        "summary": "logsumexp overflows on some inputs; I could not see which cases fail",
        "blockers": ["no instrument shows the failing verifier cases"],
        "missing_tooling": ["an MCP tool that runs the verifier and returns its verdict"],
    }
    reflection = {
        "reflection": {
            "recommendations": ["an MCP server exposing the verifier"],
            "selected_improvement": {
                "kind": "mcp",
                "name": "numerics_probe",
                "reason": "see the failing cases at once",
                "target_path": ".harnessgym/mcp/numerics_probe",
            },
        }
    }
    built = {
        "status": "tooling_built",
        "verification": {
            "tooling_tests": [
                {
                    "name": "numerics_probe",
                    "status": "passed",
                    "command": "python3 .harnessgym/mcp/numerics_probe/server.py --self-test",
                }
            ]
        },
    }
    solved = {
        "status": "solved",
        "verified": True,
        "summary": "factored the maximum out of logsumexp",
        "verification": {"status": "passed", "command": "python3 verifier.py"},
        "used_harness_tools": ["numerics_probe__run_verifier"],
    }
    return {
        "scripts": [
            {
                "marker": ATTEMPT_2,
                "steps": [
                    {"tool": TOOL, "arguments": {}},
                    _shell(_py(FIX)),
                    record(result_2, solved),
                    {"text": "Solved: logsumexp now factors out the maximum."},
                ],
            },
            {
                "marker": ATTEMPT_1,
                "steps": [record(result_1, blocked), {"text": "Blocked: no way to see failing cases."}],
            },
            {
                "marker": BUILD,
                "steps": [_shell(_py(BUILD_ARTIFACT)), record(result_1, built), {"text": "Built numerics_probe."}],
            },
            {
                "marker": REFLECTION,
                "steps": [record(result_1, reflection), {"text": "Selected an MCP verifier probe."}],
            },
        ],
        "fallback": "No scripted step for this prompt.",
    }


@pytest.fixture(scope="module")
def clis() -> Any:
    return ensure_real_clis()


@pytest.mark.parametrize("runner", ["claude", "codex"])
async def test_a_run_builds_an_mcp_tool_that_the_next_fresh_session_calls_and_solves(
    clis: Any, tmp_path: Path, runner: str
) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(EXAMPLE, workspace)
    run_id = f"e2e-{runner}"
    results = workspace / ".harnessgym" / "runs" / run_id / "iterations"
    script = _script(results / "1" / "result.json", results / "2" / "result.json")
    with scripted_model(script, tmp_path / "model", lifetime=RUN_TIMEOUT + 30) as model:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_", "CODEX_"))}
        if runner == "claude":
            env.update(claude_env(tmp_path / "home", model.base_url))
            cli_args = ["--claude-bin", str(clis.claude), "--claude-model", "mock-model"]
        else:
            env.update(codex_env(tmp_path / "home"))
            write_codex_provider_config(Path(env["CODEX_HOME"]), model.openai_base_url)
            cli_args = ["--codex-bin", str(clis.codex)]
        argv = [sys.executable, "-m", "harnessgym", "run", "--runner", runner, *cli_args]
        argv += ["--task", str(workspace / "task.md"), "--workspace", str(workspace), "--iterations", "2"]
        argv += ["--run-id", run_id, "--verify-command", "python3 verifier.py"]
        argv += ["--attempt-timeout", "90s", "--build-timeout", "90s"]
        out, err = tmp_path / "run.stdout.txt", tmp_path / "run.stderr.txt"
        with anyio.fail_after(RUN_TIMEOUT + 10):
            proc = await run_process(argv, cwd=tmp_path, env=env, timeout=RUN_TIMEOUT, stdout_path=out, stderr_path=err)
        requests = model.requests("anthropic" if runner == "claude" else "openai")
    output = out.read_text() + err.read_text()
    assert proc.returncode == 0, output[-4000:]

    # The conversation went as scripted: each phase's prompt matched, in order.
    phases = [r["script"] for r in requests]
    seen = [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]
    assert seen == [ATTEMPT_1, REFLECTION, BUILD, ATTEMPT_2], phases
    # Reflection and build resumed the attempt's session: their requests carry the attempt's history.
    build_request = next(r for r in requests if r["script"] == BUILD)
    assert "Blocked: no way to see failing cases." in json.dumps(build_request["body"])
    # Iteration 2 is a fresh session: its first request carries nothing of iteration 1, and offers the tool.
    first_of_2 = next(r for r in requests if r["script"] == ATTEMPT_2)
    assert "Blocked: no way to see failing cases." not in json.dumps(first_of_2["body"])
    assert first_of_2["reply"] == {"kind": "tool", "tool": TOOL, "offered": True}

    # The artifact was built and qualified, the tool was called through the host, the task is solved.
    assert (workspace / ".harnessgym" / "mcp" / "numerics_probe" / "harnessgym-mcp.json").is_file()
    calls = [json.loads(line) for line in (workspace / ".harnessgym" / "mcp_calls.jsonl").read_text().splitlines()]
    call = next(c for c in calls if c.get("tool_name") in ("run_verifier", "numerics_probe__run_verifier"))
    assert call["status"] == "completed" and call["run_id"] == run_id and call["iteration"] == 2, call
    assert call["phase"] == "attempt", call
    # The fresh session got the host's tools before its first turn: no waiting tool, delivery recorded.
    assert not any(r["reply"].get("tool") == "WaitForMcpServers" for r in requests if isinstance(r.get("reply"), dict))
    record_2 = json.loads((results / "2" / "iteration.json").read_text())
    assert record_2["mcp_delivered"] is True and record_2["mcp_calls"] >= 1, record_2
    assert record_2["phases"]["attempt"]["mcp_delivery"]["status"] == "delivered"
    with anyio.fail_after(70):
        verdict = await run_process([sys.executable, "verifier.py"], cwd=workspace, timeout=60)
    assert verdict.returncode == 0, verdict.stdout_tail
    summary = json.loads((workspace / ".harnessgym" / "runs" / run_id / "summary.json").read_text())
    assert (summary["status"], summary["solved"], summary["evidence"]) == ("solved", True, "verified"), summary
    first, second = summary["iterations"]
    assert (first["solved"], first["verdict_status"], first["claim_status"]) == (False, "failed", "blocked")
    assert (second["solved"], second["verdict_status"]) == (True, "passed")
    assert summary["active_artifacts"] == ["mcp:.harnessgym/mcp/numerics_probe/harnessgym-mcp.json"]
    # Live progress showed the agent's tool calls as its CLI's event stream told them, and the host's record.
    progress = err.read_text()
    lines = progress.splitlines()
    assert any(re.search(r"iteration 1 build: (Bash|exec) ", line) for line in lines), progress[-3000:]
    assert any(re.search(r"iteration 2 attempt: \S*numerics_probe__run_verifier", line) for line in lines)
    assert any("the host served numerics_probe__run_verifier (completed" in line for line in lines)
