"""A scripted stand-in for an agent CLI: ``python -m runners.fake_agent --phase P --iteration N ...``.

It behaves like Claude Code or Codex at the process boundary: it reads the prompt from stdin, prints a JSON
event with its session id first, streams JSON events as it works, keeps sessions on disk (``--home``) so
``--resume SID`` continues one and an unknown id fails like a real CLI, and exits non-zero on failure.

What it does in the workspace is scripted (``--script FILE``), so tests can make it solve, fail, hang while
holding children, write malformed files, or build skills, tools and MCP servers. A script is::

    {"steps": [{"phase": "attempt", "iteration": 1, "actions": [{"do": "result", "set": {...}}, ...]}, ...]}

The first step whose ``phase`` (or ``"*"``) and ``iteration`` (an int, a list, or absent) match runs. Actions:
``result`` (deep-merge ``set`` into result.json), ``raw_result`` (write ``text`` as is), ``write``, ``replace``,
``register`` (append a raw registry entry), ``delete``, ``once`` (run nested ``actions`` only the first time,
remembered by a ``marker`` file), ``skill``, ``tool``, ``mcp_server``, ``mcp_call``, ``run``, ``sleep``,
``wait_for`` (a ``path`` another process creates), ``hang`` (start ``children`` sleepers, then sleep), ``exit``,
``emit``, ``check_prompt``, ``when`` (run ``actions`` if the workspace path ``exists``, else ``else``: e.g. solve
only when an artifact was copied in), ``die`` (SIGKILL itself: a CLI that crashed) and ``cost`` (add ``usd`` to
the ``total_cost_usd`` its final result event reports, as Claude Code does). ``write`` replaces ``{iteration}``
and ``{workspace}`` in its text.
Without a script it plays the demo (:mod:`runners._fake_demo`), but only in the demo's own workspace (a copy of
``examples/numerical_debug_task``: its ``verifier.py`` and the ``logsumexp`` of its ``numerics.py``): iteration 1
is blocked, the build writes an MCP server, and iteration 2 calls its tool through the host before it fixes
``numerics.py``. Given any other task and no script, it claims nothing and builds nothing: it writes no result
and says so in its final event, so a run that picked it by mistake cannot pass for a solved one.
``run`` and ``mcp_call`` first print a ``tool_use`` event naming the shell command, as a real CLI's stream does.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The standard library only: four of these processes start per demo iteration, and a real agent CLI does not
# pay for our imports either (pydantic, anyio and mcp_host cost it ten times its own start).
from runners._fake_demo import DEMO_SCRIPT

Action = dict[str, Any]

PROBE_TOOL = '''"""Run the task's verifier and show which cases fail, as JSON."""
import json, subprocess, sys
proc = subprocess.run([sys.executable, "verifier.py"], capture_output=True, text=True, timeout=60)
try:
    verdict = json.loads(proc.stdout.strip().splitlines()[-1])
except (ValueError, IndexError):
    verdict = {"status": "unknown", "stdout": proc.stdout[-2000:]}
print(json.dumps({"probe": "numerics_probe", "returncode": proc.returncode, "verdict": verdict}))
'''

MCP_SERVER = '''"""A tiny MCP server ({framing} framing) exposing one tool; --self-test checks it in-process."""
import json, sys
FRAMING = {framing!r}
SELF_TEST = {self_test!r}
TOOLS = [{{"name": n, "description": "reports on the workspace", "inputSchema": {{"type": "object"}}}}
         for n in {tools!r}]

def handle(msg):
    method, mid = msg.get("method"), msg.get("id")
    if mid is None:
        return None
    if method == "initialize":
        version = msg.get("params", {{}}).get("protocolVersion", "2025-06-18")
        result = {{"protocolVersion": version, "capabilities": {{"tools": {{}}}},
                   "serverInfo": {{"name": {name!r}, "version": "1"}}}}
    elif method == "tools/list":
        result = {{"tools": TOOLS}}
    elif method == "tools/call":
        args = msg.get("params", {{}}).get("arguments", {{}})
        text = json.dumps({{"ok": True, "tool": msg["params"].get("name"), "arguments": args}})
        result = {{"content": [{{"type": "text", "text": text}}], "isError": False}}
    elif method == "ping":
        result = {{}}
    else:
        return {{"jsonrpc": "2.0", "id": mid, "error": {{"code": -32601, "message": "unknown method"}}}}
    return {{"jsonrpc": "2.0", "id": mid, "result": result}}

def read():
    if FRAMING == "ndjson":
        line = sys.stdin.buffer.readline()
        return json.loads(line) if line.strip() else (None if not line else read())
    length = None
    while True:
        header = sys.stdin.buffer.readline()
        if not header:
            return None
        if header in (b"\\r\\n", b"\\n"):
            break
        key, _, value = header.decode().partition(":")
        if key.strip().lower() == "content-length":
            length = int(value.strip())
    return json.loads(sys.stdin.buffer.read(length or 0))

def write(obj):
    body = json.dumps(obj).encode()
    if FRAMING == "ndjson":
        sys.stdout.buffer.write(body + b"\\n")
    else:
        sys.stdout.buffer.write(b"Content-Length: %d\\r\\n\\r\\n" % len(body) + body)
    sys.stdout.buffer.flush()

if "--self-test" in sys.argv:
    ok = handle({{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}})["result"]["tools"] == TOOLS
    ok = ok and SELF_TEST != "fail"
    print(json.dumps({{"self_test": "passed" if ok else "failed"}}))
    sys.exit(0 if ok else 1)
while True:
    message = read()
    if message is None:
        break
    reply = handle(message)
    if reply is not None:
        write(reply)
'''


class Agent:
    def __init__(self, args: argparse.Namespace, session_id: str, prompt: str) -> None:
        self.args = args
        self.ws = Path(args.workspace).resolve()
        self.session_id = session_id
        self.prompt = prompt
        self.cost_usd: float | None = None

    def emit(self, event: dict[str, Any]) -> None:
        print(json.dumps({**event, "session_id": self.session_id}), flush=True)

    def path(self, rel: str) -> Path:
        return self.ws / rel

    def merge_result(self, update: dict[str, Any]) -> None:
        path = Path(self.args.result_path)
        try:
            current = json.loads(path.read_text())
        except (OSError, ValueError):
            current = {}
        if not isinstance(current, dict):
            current = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_deep_merge(current, update), indent=2))

    def register(self, entry: dict[str, Any]) -> None:
        reg_path = self.path(".harnessgym/registry.json")
        try:
            registry = json.loads(reg_path.read_text())
        except (OSError, ValueError):
            registry = {"schema_version": 1, "artifacts": []}
        registry.setdefault("artifacts", []).append(entry)
        reg_path.parent.mkdir(parents=True, exist_ok=True)
        reg_path.write_text(json.dumps(registry, indent=2))

    def act(self, action: Action) -> None:
        do = action.get("do")
        if do == "result":
            self.merge_result(action.get("set", {}))
        elif do == "raw_result":
            Path(self.args.result_path).parent.mkdir(parents=True, exist_ok=True)
            Path(self.args.result_path).write_text(str(action.get("text", "")))
        elif do == "write":
            target = self.path(action["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "a" if action.get("append") else "w") as fh:
                text = str(action.get("text", "")).replace("{iteration}", str(self.args.iteration))
                fh.write(text.replace("{workspace}", str(self.ws)))
        elif do == "replace":
            target = self.path(action["path"])
            text = target.read_text() if target.exists() else ""
            if action["old"] not in text:
                if action.get("optional"):
                    return self.emit({"type": "action", "do": do, "ok": False, "note": "text not found"})
                raise AgentFailure(f"cannot edit {action['path']}: the text to replace is not there")
            target.write_text(text.replace(action["old"], action["new"], 1))
        elif do == "delete":
            target = self.path(action["path"])
            if target.is_dir():
                import shutil

                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
        elif do == "once":
            marker = self.path(action["marker"])
            if not marker.exists():
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.write_text("done\n")
                for inner in action.get("actions", []):
                    self.act(inner)
        elif do == "when":
            for inner in action.get("actions" if self.path(action["exists"]).exists() else "else", []):
                self.act(inner)
        elif do == "cost":
            self.cost_usd = (self.cost_usd or 0.0) + float(action.get("usd", 0))
        elif do == "die":
            import os
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        elif do == "register":
            self.register(action["entry"])
        elif do == "skill":
            self.build_skill(action)
        elif do == "tool":
            rel = f".harnessgym/tools/{action['name']}.py"
            self.path(rel).parent.mkdir(parents=True, exist_ok=True)
            self.path(rel).write_text(action.get("text", PROBE_TOOL))
            entry = {"kind": "tool", "path": rel, "description": action.get("description", ""),
                     "iteration": self.args.iteration}  # fmt: skip
            entry.update({k: action[k] for k in ("self_test", "self_test_timeout_sec") if k in action})
            self.register(entry)
        elif do == "mcp_server":
            self.build_mcp(action)
        elif do == "mcp_call":
            argv = [
                sys.executable,
                "-I",
                "-m",
                "harnessgym",
                "mcp",
                "call",
                "--workspace",
                str(self.ws),
                "--server",
                action["server"],
                "--tool",
                action["tool"],
                "--arguments",
                json.dumps(action.get("arguments", {})),
            ]
            self.run(argv, action)
        elif do == "run":
            self.run([a.replace("{python}", sys.executable) for a in action["argv"]], action)
        elif do == "sleep":
            time.sleep(float(action.get("seconds", 1)))
        elif do == "wait_for":
            # Another process (a test) creates the file; polling is the only way to see it, bounded.
            deadline = time.monotonic() + float(action.get("seconds", 120))
            while not self.path(action["path"]).exists():
                if time.monotonic() > deadline:
                    raise AgentFailure(f"{action['path']} did not appear in time", 3)
                time.sleep(0.05)
        elif do == "hang":
            children = [
                subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"], stdin=subprocess.DEVNULL)
                for _ in range(int(action.get("children", 1)))
            ]
            self.emit({"type": "action", "do": do, "children": [c.pid for c in children]})
            time.sleep(3600)
        elif do == "exit":
            raise AgentFailure(str(action.get("message", "scripted failure")), int(action.get("code", 1)))
        elif do == "emit":
            self.emit(dict(action.get("event", {})))
        elif do == "check_prompt":
            if str(action["contains"]) not in self.prompt:
                raise AgentFailure(f"the prompt does not contain {action['contains']!r}", 4)
        else:
            raise AgentFailure(f"unknown scripted action {do!r}", 2)
        self.emit({"type": "action", "do": do, "ok": True})

    def run(self, argv: list[str], action: Action) -> None:
        start = next((i + 1 for i in range(1, min(len(argv), 4)) if argv[i - 1 : i + 1] == ["-m", "harnessgym"]), 0)
        shown = ["harnessgym", *argv[start:]] if start else argv
        shown = ["python" if a == sys.executable else a for a in shown]
        self.emit({"type": "tool_use", "name": "Bash", "input": {"command": " ".join(shown)}})
        result = _run(argv, cwd=self.ws, timeout=float(action.get("timeout", 60)))
        self.emit(
            {
                "type": "tool_result",
                "argv": argv[-4:],
                "returncode": result.returncode,
                "stdout": result.stdout_tail[-1000:],
                "stderr": result.stderr_tail[-1000:],
            }
        )
        if not result.ok and not action.get("optional"):
            raise AgentFailure(f"{' '.join(argv[-3:])} failed with {result.returncode}: {result.stderr_tail[-300:]}")

    def build_skill(self, action: Action) -> None:
        name = action["name"]
        folder = self.path(f".harnessgym/skills/{name}")
        folder.mkdir(parents=True, exist_ok=True)
        front = action.get("front_matter", {"name": name, "description": action.get("description", "A skill.")})
        head = "".join(f"{k}: {v}\n" for k, v in front.items()) if isinstance(front, dict) else ""
        text = (f"---\n{head}---\n" if isinstance(front, dict) else "") + action.get("body", f"# {name}\n")
        (folder / "SKILL.md").write_text(text)
        if action.get("register", True):
            self.register(
                {
                    "kind": "skill",
                    "path": f".harnessgym/skills/{name}/SKILL.md",
                    "description": action.get("description", ""),
                    "iteration": self.args.iteration,
                }
            )

    def build_mcp(self, action: Action) -> None:
        name = action["name"]
        framing = action.get("framing", "ndjson")
        folder = self.path(f".harnessgym/mcp/{name}")
        folder.mkdir(parents=True, exist_ok=True)
        source = MCP_SERVER.format(
            framing=framing,
            self_test=action.get("self_test", True),
            name=name,
            tools=list(action.get("tools", ["inspect"])),
        )
        (folder / "server.py").write_text(source)
        manifest = {
            "name": name,
            "command": "python3",
            "args": [f".harnessgym/mcp/{name}/server.py"],
            "enabled_tools": list(action.get("tools", ["inspect"])),
            "framing": "newline" if framing == "ndjson" else framing,
            "self_test": True,
            "description": action.get("description", ""),
        }
        (folder / "harnessgym-mcp.json").write_text(json.dumps(manifest, indent=2))
        self.register(
            {
                "kind": "mcp",
                "path": f".harnessgym/mcp/{name}/harnessgym-mcp.json",
                "description": action.get("description", ""),
                "iteration": self.args.iteration,
            }
        )


class AgentFailure(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _is_demo_workspace(ws: Path) -> bool:
    """Whether ``ws`` is the demo task (a copy of examples/numerical_debug_task, fixed or not)."""
    try:
        numerics = (ws / "numerics.py").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return (ws / "verifier.py").is_file() and "def logsumexp" in numerics


def _matches(step: dict[str, Any], phase: str, iteration: int) -> bool:
    if step.get("phase", "*") not in ("*", phase):
        return False
    wanted = step.get("iteration")
    return wanted is None or wanted == iteration or (isinstance(wanted, list) and iteration in wanted)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fake_agent", description="A scripted stand-in for an agent CLI.")
    parser.add_argument("--phase", required=True, choices=["attempt", "reflection", "build", "repair"])
    parser.add_argument("--iteration", type=int, required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--result-path", required=True)
    parser.add_argument("--home", required=True, help="where sessions are kept")
    parser.add_argument("--script")
    parser.add_argument("--resume", metavar="SESSION_ID")
    parser.add_argument("--repair-index", type=int)
    parser.add_argument("--mcp-server")
    parser.add_argument("--goal", help="goal mode: keep taking turns until this condition holds")
    parser.add_argument("--goal-budget", type=int, default=1_000_000, help="tokens a goal may use")
    return parser.parse_args(argv)


def _main(args: argparse.Namespace) -> int:
    sessions = Path(args.home) / "sessions"
    if args.resume:
        if not (sessions / f"{args.resume}.json").exists():
            print(f"Error: No conversation found with session ID: {args.resume}", file=sys.stderr)
            return 1
        session_id = args.resume
    else:
        session_id = f"fake-{uuid.uuid4()}"
        sessions.mkdir(parents=True, exist_ok=True)
        (sessions / f"{session_id}.json").write_text(json.dumps({"workspace": args.workspace}))
    prompt = sys.stdin.read()
    agent = Agent(args, session_id, prompt)
    agent.emit(
        {
            "type": "system",
            "subtype": "init",
            "phase": args.phase,
            "iteration": args.iteration,
            "prompt_chars": len(prompt),
            "mcp_server": args.mcp_server,
            "resumed": bool(args.resume),
        }
    )
    if args.script:
        script = json.loads(Path(args.script).read_text())
    elif _is_demo_workspace(agent.ws):
        script = DEMO_SCRIPT
    else:
        agent.emit({"type": "result", "subtype": "success", "is_error": False,
                    "result": "the fake agent has no script for this task (it plays the demo only in a copy of "
                    "examples/numerical_debug_task); it did nothing and claims nothing"})  # fmt: skip
        return 0
    step: dict[str, Any] = next((s for s in script.get("steps", []) if _matches(s, args.phase, args.iteration)), {})
    try:
        for action in step.get("actions", []):
            agent.act(action)
        if args.goal and args.phase == "attempt":
            from runners._fake_goal import run_goal

            run_goal(step.get("goal", {}), args.goal, args.goal_budget, agent.ws, agent.act, agent.emit)
    except AgentFailure as exc:
        print(f"fake agent: {exc}", file=sys.stderr)
        agent.emit({"type": "result", "subtype": "error", "is_error": True, "result": str(exc)})
        return exc.code
    final = {"type": "result", "subtype": "success", "is_error": False,
             "result": f"{args.phase} of iteration {args.iteration} done"}  # fmt: skip
    if agent.cost_usd is not None:
        final["total_cost_usd"] = agent.cost_usd
    agent.emit(final)
    return 0


@dataclass
class _Ran:
    returncode: int | None
    stdout_tail: str
    stderr_tail: str
    timed_out: bool

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def _run(argv: list[str], cwd: Path, timeout: float) -> _Ran:
    """Run a command as an agent's shell tool would: its own process group, killed whole on timeout."""
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    except OSError as exc:
        return _Ran(None, "", str(exc), False)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        timed_out = True
    text = (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")
    return _Ran(proc.returncode, text[0][-4000:], text[1][-4000:], timed_out)


def main(argv: list[str] | None = None) -> int:
    return _main(_parse(argv))


if __name__ == "__main__":
    sys.exit(main())
