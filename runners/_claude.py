"""The Claude Code runner (verified with ``@anthropic-ai/claude-code@2.1.197``).

One phase is one print-mode run::

    claude -p --output-format stream-json --verbose --permission-mode <mode> [--model M]
           [--max-budget-usd %g] (--session-id <new uuid4> | --resume <sid>) --strict-mcp-config
           [--mcp-config <phase>.mcp.json --allowedTools mcp__<name>] [claude_extra_args...]  < prompt file

run with cwd = the workspace (Claude looks sessions up by cwd, so resuming anywhere else fails with "No
conversation found"). What the CLI needed, and why:

* **The prompt on stdin** from ``PhaseRequest.prompt_path``: ``-p`` reads it from there, so no prompt can hit the
  argument-length limit, and stdin is a file (the CLI sees EOF) rather than an open pipe.
* **``--output-format stream-json --verbose``**: events arrive line by line (``system/init`` first, carrying the
  session id), so the transcript grows live and the session id survives a timeout. ``--verbose`` is required
  with stream-json in print mode.
* **``--session-id``** for a fresh session, so the id is known before the CLI starts.
* **``IS_SANDBOX=1``** when running as root with ``bypassPermissions`` (the default): without it the CLI refuses
  ("--dangerously-skip-permissions cannot be used with root/sudo privileges") and exits 1. It must be exactly
  ``1``: an inherited ``IS_SANDBOX=yes`` is refused the same way, so the runner overrides it (unless
  ``agent_env`` sets it).
* **``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1``** (unless the caller sets it): without it each run makes
  about five connections to api.anthropic.com (telemetry, a title request) and stalls ~8 s offline.
* **``--strict-mcp-config``** always, so only the server the loop hands over is loaded (never the user's or the
  project's), and ``--allowedTools mcp__<name>`` so its tools work in every permission mode. The config file is
  written next to the transcript (``<phase>.claude-mcp.json``). ``MCP_TIMEOUT``/``MCP_TOOL_TIMEOUT`` (ms)
  are set unless the caller set them.
* Claude hands MCP servers its **whole** environment, API key included; the server command is wrapped in
  ``env -u <NAME>...`` to drop every variable outside the host's allow-list
  (:func:`mcp_host.host_may_hold`,
  the rule that scrubs generated servers) unless the launch sets it: a generated server can read its parent's
  ``/proc/<pid>/environ``, so the host must not hold what its children may not see.
* Everything else (``ANTHROPIC_BASE_URL``, ``ANTHROPIC_API_KEY``, ``CLAUDE_CODE_MAX_RETRIES``, ``HOME``) comes
  from the caller's environment or ``RunnerOptions.agent_env``.

Success is read from the final ``result`` event, never from the exit code alone: ``is_error`` (API errors come
back with ``subtype: "success"`` and ``is_error: true``), ``subtype: "error_max_budget_usd"`` (→ error kind
``budget_exhausted``), ``error_max_turns``, and ``permission_denials`` (recorded; the phase itself completes).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, ClassVar

from mcp_host import host_may_hold
from runners._base import McpDelivery, McpLaunch, PhaseOutcome, PhaseRequest, Runner
from runners._cli_events import (
    Transcript,
    agent_environment,
    clip,
    int_usage,
    phase_env,
    report_action,
    run_cli_phase,
)
from runners._options import RunnerOptions

__all__ = ["ClaudeRunner"]

MCP_STARTUP_TIMEOUT_MS = 30_000

_ERROR_KINDS = {
    "error_max_budget_usd": "budget_exhausted",
    "error_max_turns": "max_turns",
    "error_during_execution": "execution_error",
}


class ClaudeRunner(Runner):
    """Drives ``claude -p``; one instance serves a whole run."""

    name: ClassVar[str] = "claude"
    supports_goal: ClassVar[bool] = True

    def __init__(self, options: RunnerOptions) -> None:
        self.options = options

    def environment(self, request: PhaseRequest) -> dict[str, str]:
        opts = self.options
        quiet = {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
        bypass = opts.claude_permission_mode == "bypassPermissions" or any(
            a.startswith("--dangerously-skip-permissions") for a in opts.claude_extra_args
        )
        if request.mcp is not None:
            quiet["MCP_TIMEOUT"] = str(MCP_STARTUP_TIMEOUT_MS)
            quiet["MCP_TOOL_TIMEOUT"] = str(int(request.timeout_seconds * 1000))
        env = agent_environment(os.environ, {**phase_env(request), **opts.agent_env, **request.env}, quiet)
        if bypass and os.geteuid() == 0 and "IS_SANDBOX" not in opts.agent_env:
            env["IS_SANDBOX"] = "1"  # exactly "1": an inherited IS_SANDBOX=yes is refused
        return env

    def mcp_config_path(self, request: PhaseRequest) -> Path:
        """Next to the transcript: ``attempt.transcript.txt`` → ``attempt.claude-mcp.json``."""
        stem = request.transcript_path.name.split(".", 1)[0] or request.phase
        return request.transcript_path.with_name(f"{stem}.claude-mcp.json")

    def mcp_config(self, request: PhaseRequest, mcp: McpLaunch, env: dict[str, str]) -> dict[str, Any]:
        """The ``--mcp-config`` document: the one server, wrapped to drop what the host's children may not see."""
        command, args = mcp.command, list(mcp.args)
        env_tool = shutil.which("env", path=env.get("PATH")) or "/usr/bin/env"
        prefix: list[str] = []
        for name in sorted(env):
            if not host_may_hold(name) and name not in mcp.env:
                prefix += ["-u", name]
        if mcp.cwd is not None and Path(mcp.cwd) != Path(request.workspace):
            prefix += ["-C", str(mcp.cwd)]
        if prefix:
            command, args = env_tool, [*prefix, "--", mcp.command, *mcp.args]
        server = {"type": "stdio", "command": command, "args": args, "env": dict(mcp.env)}
        return {"mcpServers": {mcp.name: server}}

    def argv(self, request: PhaseRequest, session_id: str, mcp_config: Path | None) -> list[str]:
        opts = self.options
        argv = [opts.claude_bin, "-p", "--output-format", "stream-json", "--verbose"]
        argv += ["--permission-mode", opts.claude_permission_mode]
        if opts.claude_model:
            argv += ["--model", opts.claude_model]
        if opts.claude_max_budget_usd is not None:
            argv += ["--max-budget-usd", f"{opts.claude_max_budget_usd:g}"]
        argv += ["--resume", session_id] if request.session_id else ["--session-id", session_id]
        argv.append("--strict-mcp-config")
        if mcp_config is not None and request.mcp is not None:
            argv += ["--mcp-config", str(mcp_config), "--allowedTools", f"mcp__{request.mcp.name}"]
        argv += list(opts.claude_extra_args)
        return argv

    async def run_phase(self, request: PhaseRequest) -> PhaseOutcome:
        if request.goal is not None and request.phase == "attempt":
            from ._claude_goal import run_claude_goal

            return await run_claude_goal(self, request, lambda t, s: _ClaudeEvents(t, s, request))
        session_id = request.session_id or str(uuid.uuid4())
        env = self.environment(request)
        config_path: Path | None = None
        if request.mcp is not None:
            config_path = self.mcp_config_path(request)
            config_path.parent.mkdir(parents=True, exist_ok=True)
            config_path.write_text(json.dumps(self.mcp_config(request, request.mcp, env), indent=2))
        argv = self.argv(request, session_id, config_path)
        mode = f"resuming session {session_id}" if request.session_id else f"new session {session_id}"
        events = _ClaudeEvents(Transcript(request.transcript_path), session_id, request)
        return await run_cli_phase("claude", argv, request, env, events, mode)


class _ClaudeEvents:
    """Reads stream-json events: transcript lines as they arrive, the final result for the outcome."""

    def __init__(self, transcript: Transcript, requested_session: str, request: PhaseRequest) -> None:
        self.transcript = transcript
        self.request = request
        self.mcp_name = request.mcp.name if request.mcp is not None else None
        """The MCP server the session was handed, whose delivery the init event tells."""
        self.init_tools: list[str] | None = None
        self.requested_session = requested_session
        """The session the CLI was told to start or resume; used when it reports none."""
        self.session_id: str | None = None
        self.result: dict[str, Any] | None = None
        self.mcp_servers: list[dict[str, Any]] = []

    def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if isinstance(event.get("session_id"), str):
            self.session_id = event["session_id"]
        if kind == "system" and event.get("subtype") == "init":
            listed = event.get("mcp_servers")
            self.mcp_servers = [s for s in listed if isinstance(s, dict)] if isinstance(listed, list) else []
            servers = ", ".join(f"{s.get('name')}:{s.get('status')}" for s in self.mcp_servers) or "none"
            tools = event.get("tools", [])
            if self.init_tools is None:
                self.init_tools = [str(t) for t in tools] if isinstance(tools, list) else []
            self.transcript.write(
                "init", f"session {self.session_id}, model {event.get('model')}, {len(tools)} tools, mcp {servers}"
            )
        elif kind == "system":
            self.transcript.write(f"system/{event.get('subtype')}", clip(json.dumps(event), 300))
        elif kind in ("assistant", "user"):
            self._message(str(kind), event.get("message") or {})
        elif kind == "result":
            self.result = event
            self.transcript.write(
                "result",
                f"{event.get('subtype')} is_error={event.get('is_error')} turns={event.get('num_turns')} "
                f"cost=${event.get('total_cost_usd')}: {clip(str(event.get('result', '')), 300)}",
            )

    def _message(self, role: str, message: dict[str, Any]) -> None:
        content = message.get("content")
        if isinstance(content, str):
            self.transcript.write(role, clip(content))
            return
        for block in content if isinstance(content, list) else []:
            if not isinstance(block, dict):
                continue
            btype = block.get("type")
            if btype == "text":
                self.transcript.write(role, clip(str(block.get("text", ""))))
            elif btype == "tool_use":
                self.transcript.write("tool_use", f"{block.get('name')} {clip(json.dumps(block.get('input')), 600)}")
                name = str(block.get("name"))
                report_action(self.request, name, _action_detail(block.get("input")), mcp=name.startswith("mcp__"))
            elif btype == "tool_result":
                body = block.get("content")
                if isinstance(body, list):
                    body = " ".join(str(b.get("text", "")) for b in body if isinstance(b, dict))
                label = "tool_result (error)" if block.get("is_error") else "tool_result"
                self.transcript.write(label, clip(str(body), 600))

    def delivery(self) -> McpDelivery | None:
        """What the init event says about the handed server: connected, with its tools offered, or not."""
        if self.mcp_name is None:
            return None
        prefix = f"mcp__{self.mcp_name}__"
        tools = [t for t in self.init_tools or [] if t.startswith(prefix)]
        server = next((s for s in self.mcp_servers if s.get("name") == self.mcp_name), None)
        status = str(server.get("status")) if server is not None else None
        if self.init_tools is None:
            return McpDelivery(status="failed", message="Claude Code reported no init event")
        if status == "connected" and tools:
            return McpDelivery(status="delivered", server_status=status, tools=tools,
                               message="connected in the init event, with its tools offered")  # fmt: skip
        why = (f"the init event reports the server {self.mcp_name!r} as {status or 'absent'}"
               + ("" if tools else ", with none of its tools offered"))  # fmt: skip
        return McpDelivery(status="failed", server_status=status, tools=tools, message=why)

    def apply(self, outcome: PhaseOutcome) -> None:
        if outcome.error_kind != "not_started":
            outcome.session_id = self.session_id or self.requested_session
        outcome.details["mcp_servers"] = self.mcp_servers
        if outcome.error_kind != "not_started":
            outcome.mcp_delivery = self.delivery()
        result = self.result
        if result is None:
            if outcome.status == "completed":
                outcome.status, outcome.error_kind = "failed", "no_result"
                outcome.message = "Claude Code exited without a result event; see the stderr file"
            return
        outcome.usage = int_usage(result.get("usage"))
        cost = result.get("total_cost_usd")
        outcome.cost_usd = float(cost) if isinstance(cost, int | float) else None
        if isinstance(result.get("result"), str):
            outcome.final_text = result["result"]
        outcome.permission_denials = [
            str(d.get("tool_name", d)) if isinstance(d, dict) else str(d)
            for d in result.get("permission_denials") or []
        ]
        for key in ("subtype", "num_turns", "duration_ms", "terminal_reason", "stop_reason", "api_error_status"):
            if result.get(key) is not None:
                outcome.details[key] = result[key]
        if isinstance(result.get("modelUsage"), dict):
            outcome.details["model_usage"] = result["modelUsage"]
        subtype = str(result.get("subtype", ""))
        errors = [str(e) for e in result.get("errors") or []]
        if outcome.status == "timeout":
            return
        if result.get("is_error") or subtype != "success":
            outcome.status = "failed"
            if subtype in _ERROR_KINDS:
                outcome.error_kind = _ERROR_KINDS[subtype]
            elif result.get("api_error_status") is not None:
                outcome.error_kind = "api_error"
            else:
                outcome.error_kind = "agent_error"
            reason = "; ".join(errors) or str(result.get("result") or subtype)
            status = result.get("api_error_status")
            outcome.message = (
                f"Claude Code reported {subtype}" + (f" (HTTP {status})" if status else "") + f": {reason}"
            )
        elif outcome.permission_denials:
            outcome.message = "Claude Code denied tool calls: " + ", ".join(outcome.permission_denials)


def _action_detail(tool_input: object) -> str:
    """What a progress line shows of a tool's input: its command, path or pattern, else its JSON."""
    if isinstance(tool_input, dict):
        for key in ("command", "file_path", "path", "pattern", "url", "description"):
            if isinstance(tool_input.get(key), str):
                return str(tool_input[key])
    return json.dumps(tool_input) if tool_input else ""
