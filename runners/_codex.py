"""The Codex runner (verified with ``@openai/codex@0.169.0``).

One phase is one ``codex exec`` run::

    codex exec --json --skip-git-repo-check
               (--dangerously-bypass-approvals-and-sandbox | -s <sandbox> -c approval_policy="never")
               [-m MODEL] -c analytics.enabled=false --disable plugins
               [-c mcp_servers.<name>.command=... args=[...] cwd=... env.K=V env_vars=[...] *_timeout_sec=...]
               [-c KEY=VALUE for each codex_config entry]
               ( - | resume <thread id> - )                         < prompt file

run with cwd = the workspace. What the CLI needed, and why:

* **The prompt on stdin** (the ``-`` argument) from ``PhaseRequest.prompt_path``: ``codex exec`` always reads
  stdin and hangs until EOF on an open pipe, and a file keeps long prompts off argv.
* **``--json``**: JSONL events; ``thread.started`` (first line) carries the thread id used to resume, so it is
  known even when the phase times out. ``turn.completed`` carries usage; there is no cost.
* **Every flag before ``resume``**: ``codex exec resume`` rejects ``-s``/``-C``/``--add-dir`` after ``resume``,
  and a resumed turn whose sandbox is not given again runs read-only.
* **``--skip-git-repo-check``**: workspaces need not be git repositories.
* **``-c analytics.enabled=false --disable plugins``**: without them each run contacts ab.chatgpt.com, github.com,
  api.github.com and chatgpt.com, and stalls ~10 s offline.
* **``-c`` values as JSON** (valid TOML): ``codex_config`` entries ``KEY=VALUE`` pass VALUE through when it is
  JSON (``0``, ``false``, ``["a"]``, ``"s"``) and quote it as a JSON string otherwise (``mock``,
  ``http://...``), because ``-c k=[a.py]`` fails to parse as a sequence.
* **MCP through ``-c mcp_servers.<name>.*``**, no config file. Codex starts servers with only HOME, LANG and PATH
  plus the configured ``env``, so the launch's variables go in ``env.K`` and a few harmless ones the server may
  need (PYTHONPATH, VIRTUAL_ENV, TMPDIR, locale, the phase tag) are forwarded with ``env_vars``; credentials are
  never forwarded. MCP tools reach the model as namespace ``mcp__<name>`` + tool name.
* Everything else (a model provider, ``CODEX_HOME``, ``HOME``, provider retries) comes from ``codex_config``,
  the caller's environment or ``RunnerOptions.agent_env``.

Success is ``turn.completed``; ``turn.failed`` (→ error kind ``turn_failed``) and ``error`` events are failures
even when the exit code is 0, and a run with neither is failed as ``no_result``.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, ClassVar

from mcp_host import PROC_TAG_VAR
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

__all__ = ["CodexRunner", "config_flag"]

MCP_STARTUP_TIMEOUT_SEC = 30.0
_FORWARDED = ("PYTHONPATH", "VIRTUAL_ENV", "TMPDIR", "LC_ALL", "LC_CTYPE", "TZ", PROC_TAG_VAR)
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(part: str) -> str:
    return part if _BARE_KEY.match(part) else json.dumps(part)


def config_flag(key: str, value: Any) -> list[str]:
    """``-c key=<value as JSON>``: JSON scalars and arrays are valid TOML."""
    return ["-c", f"{key}={json.dumps(value)}"]


def _user_config(entry: str) -> list[str]:
    key, sep, raw = entry.partition("=")
    if not sep:
        raise ValueError(f"codex config entry {entry!r} is not KEY=VALUE")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    if isinstance(value, dict):  # a JSON object is not TOML; let Codex parse the raw text
        return ["-c", f"{key.strip()}={raw}"]
    return config_flag(key.strip(), value)


class CodexRunner(Runner):
    """Drives ``codex exec``; one instance serves a whole run."""

    name: ClassVar[str] = "codex"
    supports_goal: ClassVar[bool] = True

    def __init__(self, options: RunnerOptions) -> None:
        self.options = options
        for entry in options.codex_config:  # fail at construction, not in the middle of a run
            _user_config(entry)

    def environment(self, request: PhaseRequest | None = None) -> dict[str, str]:
        return agent_environment(os.environ, {**self.options.agent_env, **(request.env if request else {})}, {})

    def mcp_flags(self, request: PhaseRequest, mcp: McpLaunch, env: dict[str, str]) -> list[str]:
        prefix = f"mcp_servers.{_key(mcp.name)}"
        flags = config_flag(f"{prefix}.command", mcp.command)
        flags += config_flag(f"{prefix}.args", list(mcp.args))
        flags += config_flag(f"{prefix}.cwd", str(mcp.cwd or request.workspace))
        flags += config_flag(f"{prefix}.startup_timeout_sec", MCP_STARTUP_TIMEOUT_SEC)
        # Codex starts optional servers without waiting, so a session would begin without their tools.
        flags += config_flag(f"{prefix}.required", True)
        flags += config_flag(f"{prefix}.tool_timeout_sec", float(request.timeout_seconds))
        for name, value in sorted(mcp.env.items()):
            flags += config_flag(f"{prefix}.env.{_key(name)}", value)
        # The process tag is added by run_process when the CLI starts, so it is forwarded unconditionally.
        forwarded = [n for n in _FORWARDED if (n in env or n == PROC_TAG_VAR) and n not in mcp.env]
        if forwarded:
            flags += config_flag(f"{prefix}.env_vars", forwarded)
        return flags

    def argv(self, request: PhaseRequest, env: dict[str, str]) -> list[str]:
        opts = self.options
        argv = [opts.codex_bin, "exec", "--json", "--skip-git-repo-check"]
        if opts.codex_sandbox is None:
            argv.append("--dangerously-bypass-approvals-and-sandbox")
        else:
            argv += ["-s", opts.codex_sandbox, *config_flag("approval_policy", "never")]
        if opts.codex_model:
            argv += ["-m", opts.codex_model]
        argv += [*config_flag("analytics.enabled", False), "--disable", "plugins"]
        if request.mcp is not None:
            argv += self.mcp_flags(request, request.mcp, env)
            # Under a sandbox (`-s`, approval_policy "never") `codex exec` refuses every MCP tool not marked
            # read-only unless the server's tools are approved; the host's tools are what the session is for.
            # (The app server asks instead, and runners._codex_goal answers by policy.)
            argv += config_flag(f"mcp_servers.{_key(request.mcp.name)}.default_tools_approval_mode", "approve")
        for entry in opts.codex_config:
            argv += _user_config(entry)
        argv += ["resume", request.session_id, "-"] if request.session_id else ["-"]
        return argv

    def app_server_argv(self, request: PhaseRequest) -> list[str]:
        """``codex app-server`` with the configuration ``codex exec`` gets (goal mode, :mod:`runners._codex_goal`)."""
        argv = [self.options.codex_bin, "app-server"]
        if self.options.codex_model:
            argv += config_flag("model", self.options.codex_model)
        argv += [*config_flag("analytics.enabled", False), "--disable", "plugins"]
        if request.mcp is not None:
            argv += self.mcp_flags(request, request.mcp, self.environment())
        for entry in self.options.codex_config:
            argv += _user_config(entry)
        return argv

    def ui_argv(self, request: PhaseRequest) -> list[str]:
        """The interactive UI for the live view (:mod:`runners._codex_watch`), configured as ``codex exec``."""
        opts = self.options
        argv = [opts.codex_bin, "--no-daemon"]
        if opts.codex_sandbox is None:
            argv.append("--dangerously-bypass-approvals-and-sandbox")
        else:
            argv += ["-s", opts.codex_sandbox, "-a", "never"]
        return argv + self.app_server_argv(request)[2:]

    async def run_phase(self, request: PhaseRequest) -> PhaseOutcome:
        if request.phase == "attempt" and self.options.codex_watch:
            from ._codex_watch import run_codex_watch

            return await run_codex_watch(self, request)
        return await self.run_headless(request)

    async def run_headless(self, request: PhaseRequest) -> PhaseOutcome:
        """A phase without the live view: ``codex exec``, or ``codex app-server`` for a goal."""
        if request.goal is not None and request.phase == "attempt":
            from ._codex_goal import run_codex_goal

            return await run_codex_goal(self, request)
        env = {**self.environment(request), **phase_env(request)}
        argv = self.argv(request, env)
        mode = f"resuming thread {request.session_id}" if request.session_id else "new thread"
        events = _CodexEvents(Transcript(request.transcript_path), request.session_id, request)
        return await run_cli_phase("codex", argv, request, env, events, mode)


class _CodexEvents:
    """Reads ``--json`` events: transcript lines as they arrive, usage and failures for the outcome."""

    def __init__(self, transcript: Transcript, resumed_thread: str | None, request: PhaseRequest) -> None:
        self.transcript = transcript
        self.request = request
        self.mcp_name = request.mcp.name if request.mcp is not None else None
        """The MCP server the session was handed (``required``: Codex fails the session when it cannot start)."""
        self.resumed_thread = resumed_thread
        """The thread the CLI was told to resume; used when it reports none."""
        self.thread_id: str | None = None
        self.usage: dict[str, int] = {}
        self.turns_completed = 0
        self.turn_failed: str | None = None
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.final_text: str | None = None
        self.mcp_calls: list[dict[str, Any]] = []
        self.commands = 0

    def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "thread.started":
            self.thread_id = str(event.get("thread_id")) if event.get("thread_id") else None
            self.transcript.write("thread.started", str(self.thread_id))
        elif kind == "turn.started":
            self.transcript.write("turn.started")
        elif kind == "turn.completed":
            self.turns_completed += 1
            for key, value in int_usage(event.get("usage")).items():
                self.usage[key] = self.usage.get(key, 0) + value
            self.transcript.write("turn.completed", json.dumps(event.get("usage")))
        elif kind == "turn.failed":
            error = event.get("error")
            self.turn_failed = str(error.get("message") if isinstance(error, dict) else error)
            self.transcript.write("turn.failed", clip(self.turn_failed, 600))
        elif kind == "error":
            self.errors.append(str(event.get("message")))
            self.transcript.write("error", clip(str(event.get("message")), 600))
        elif kind in ("item.started", "item.completed", "item.updated"):
            item = event.get("item")
            if isinstance(item, dict):
                self._item(str(kind), item)

    def _item(self, kind: str, item: dict[str, Any]) -> None:
        itype = item.get("type")
        done = kind == "item.completed"
        if itype == "agent_message" and done:
            self.final_text = str(item.get("text", ""))
            self.transcript.write("assistant", clip(self.final_text))
        elif itype == "reasoning" and done:
            self.transcript.write("reasoning", clip(str(item.get("text", ""))))
        elif itype == "command_execution":
            if done:
                self.commands += 1
                output = clip(str(item.get("aggregated_output", "")), 600)
                self.transcript.write("exec done", f"exit {item.get('exit_code')}: {output}")
            elif kind == "item.started":
                self.transcript.write("exec", clip(str(item.get("command", "")), 600))
                report_action(self.request, "exec", item.get("command", ""))
        elif itype == "mcp_tool_call":
            name = f"{item.get('server')}.{item.get('tool')}"
            if done:
                self.mcp_calls.append(
                    {"server": item.get("server"), "tool": item.get("tool"), "status": item.get("status")}
                )
                body = item.get("error") or item.get("result")
                self.transcript.write(f"mcp_result {name} ({item.get('status')})", clip(json.dumps(body), 600))
            elif kind == "item.started":
                self.transcript.write(f"mcp_call {name}", clip(json.dumps(item.get("arguments")), 600))
                report_action(self.request, name, json.dumps(item.get("arguments")), mcp=True)
        elif itype == "error" and done:
            self.warnings.append(str(item.get("message")))
            self.transcript.write("warning", clip(str(item.get("message"))))
        elif done:
            self.transcript.write(f"item/{itype}", clip(json.dumps(item), 300))

    def delivery(self) -> McpDelivery | None:
        """Codex reports no tool list; the server is ``required``, so a session that ran a turn had it started.
        A start-up error naming the server is a failed delivery."""
        if self.mcp_name is None:
            return None
        called = sorted({str(c["tool"]) for c in self.mcp_calls if c.get("server") == self.mcp_name})
        failed = [e for e in [*self.errors, *self.warnings, self.turn_failed or ""]
                  if self.mcp_name in e and ("MCP" in e or "mcp" in e)]  # fmt: skip
        if failed:
            return McpDelivery(status="failed", tools=called, message=failed[0][:500])
        if self.turns_completed == 0 and not called:
            return McpDelivery(status="failed", message="Codex completed no turn, so the server's start is unknown")
        return McpDelivery(status="delivered", tools=called,
                           message="required server: Codex ran the session only after it started")  # fmt: skip

    def apply(self, outcome: PhaseOutcome) -> None:
        outcome.session_id = self.thread_id or self.resumed_thread
        if outcome.error_kind != "not_started":
            outcome.mcp_delivery = self.delivery()
        outcome.usage = dict(self.usage)
        outcome.final_text = self.final_text
        outcome.details.update(
            {"turns_completed": self.turns_completed, "commands": self.commands, "mcp_tool_calls": self.mcp_calls}
        )
        if self.errors:
            outcome.details["errors"] = self.errors
        if self.warnings:
            outcome.details["warnings"] = self.warnings
        if outcome.status in ("timeout", "interrupted") or outcome.error_kind == "not_started":
            return
        if self.turn_failed is not None:
            outcome.status, outcome.error_kind = "failed", "turn_failed"
            outcome.message = f"Codex reported turn.failed: {self.turn_failed}"
        elif self.turns_completed == 0:
            outcome.status = "failed"
            if outcome.error_kind is None:
                outcome.error_kind = "no_result"
            reason = "; ".join(self.errors) or "no turn.completed event"
            outcome.message = f"Codex did not complete its turn: {reason}" + (
                f" ({outcome.message})" if outcome.message else ""
            )
