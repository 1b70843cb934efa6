"""Goal mode for Codex (verified with 0.169): the attempt through ``codex app-server``, on one thread.

``codex exec "/goal …"`` does not set a goal (the text is a plain prompt), so the attempt phase runs::

    codex app-server [-c ... as for codex exec] --disable plugins      (stdio JSON-RPC, cwd = the workspace)
    → initialize / initialized → thread/start {cwd, approvalPolicy, sandbox[, model]}
    → turn/start {the attempt prompt}, until the thread is idle again (an ordinary first turn)
    → thread/goal/set {objective: the condition, status: active, tokenBudget: what the first turn left}
    → Codex starts goal turns by itself until the goal is no longer active (the model calls update_goal with
      ``complete`` or ``blocked``, or the budget stops it as ``budgetLimited``) and the thread is idle.

The thread id is the session id: reflection and build resume it with ``codex exec resume`` like any thread, as
further turns of the same thread (a goal that did not end on its own is cleared first, so they do not continue
it). The JSON-RPC lines go to the phase's stdout file, the transcript is written as notifications arrive, token
usage comes from ``thread/tokenUsage/updated``; there is no cost, as with ``codex exec``.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import anyio

from ._base import PhaseOutcome, PhaseRequest
from ._cli_events import Transcript, clip, summarize, write_prompt_file
from ._codex_app_server import CLOSED, AppServer, AppServerError
from ._goal import GoalOutcome, GoalReport, GoalSpec

if TYPE_CHECKING:
    from ._codex import CodexRunner

__all__ = ["run_codex_goal"]

REQUEST_TIMEOUT_SECONDS = 60.0
_ENDINGS: dict[str, GoalOutcome] = {
    "complete": "met", "blocked": "impossible", "budgetLimited": "budget_exhausted", "usageLimited": "budget_exhausted",
    "paused": "not_met",
}  # fmt: skip
_USAGE = {"inputTokens": "input_tokens", "cachedInputTokens": "cached_input_tokens", "outputTokens": "output_tokens",
          "reasoningOutputTokens": "reasoning_output_tokens", "totalTokens": "total_tokens"}  # fmt: skip


class _Thread:
    """What the notifications tell about the thread: status, turns, goal, tokens, items (and the transcript)."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self.changed = anyio.Event()
        self.idle = True
        self.turns_started = 0
        self.turns_completed = 0
        self.failed: str | None = None
        self.goal: dict[str, Any] | None = None
        self.usage: dict[str, int] = {}
        self.final_text: str | None = None
        self.commands = 0
        self.mcp_calls: list[dict[str, Any]] = []
        self.warnings: list[str] = []

    def on(self, message: dict[str, Any]) -> None:
        method, raw = str(message.get("method")), message.get("params")
        params: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if method == CLOSED:
            self.failed = self.failed or "the app server exited"
        elif method == "thread/status/changed":
            status = _dict(params.get("status"))
            self.idle = status.get("type") == "idle"
            if status.get("type") == "systemError":
                self.failed = "the thread reported a system error"
        elif method == "turn/started":
            self.turns_started += 1
            self.transcript.write("turn.started", f"turn {self.turns_started}")
        elif method == "turn/completed":
            turn = _dict(params.get("turn"))
            self.turns_completed += 1
            if turn.get("status") == "failed":
                error = turn.get("error")
                self.failed = str(error.get("message") if isinstance(error, dict) else error)
            self.transcript.write("turn.completed", f"turn {self.turns_completed}: {turn.get('status')}")
        elif method == "thread/goal/updated" and isinstance(params.get("goal"), dict):
            previous = (self.goal or {}).get("status")
            self.goal = params["goal"]
            if self.goal.get("status") != previous:
                self.transcript.write("goal", f"{self.goal.get('status')}, {self.goal.get('tokensUsed')} tokens used")
        elif method == "thread/tokenUsage/updated":
            total = (params.get("tokenUsage") or {}).get("total") or {}
            self.usage = {name: int(total[key]) for key, name in _USAGE.items() if isinstance(total.get(key), int)}
        elif method == "item/completed" and isinstance(params.get("item"), dict):
            self._item(params["item"])
        elif method in ("error", "warning", "configWarning"):
            text = str(params.get("message") or params.get("summary") or params.get("error") or "")
            self.warnings.append(text)
            self.transcript.write(method, clip(text, 600))
        self.changed.set()
        self.changed = anyio.Event()

    def _item(self, item: dict[str, Any]) -> None:
        kind = item.get("type")
        if kind == "agentMessage":
            self.final_text = str(item.get("text", ""))
            self.transcript.write("assistant", clip(self.final_text))
        elif kind == "commandExecution":
            self.commands += 1
            output = clip(str(item.get("aggregatedOutput", "")), 600)
            command = clip(str(item.get("command", "")), 300)
            self.transcript.write("exec", f"{command} → exit {item.get('exitCode')}: {output}")
        elif kind == "mcpToolCall":
            call = {"server": item.get("server"), "tool": item.get("tool"), "status": item.get("status")}
            self.mcp_calls.append(call)
            self.transcript.write(f"mcp_call {item.get('server')}.{item.get('tool')}", str(item.get("status")))
        elif kind not in ("userMessage", "reasoning"):
            self.transcript.write(f"item/{kind}", clip(json.dumps(item), 300))

    @property
    def tokens(self) -> int:
        return self.usage.get("total_tokens", 0)

    @property
    def goal_active(self) -> bool:
        return self.goal is not None and self.goal.get("status") == "active"

    async def settle(self, done: Any) -> None:
        """Wait until ``done()`` holds (the caller bounds the wait)."""
        while not done():
            await self.changed.wait()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def run_codex_goal(runner: CodexRunner, request: PhaseRequest) -> PhaseOutcome:
    """The attempt prompt as a first turn, then its goal on the same thread, within the budget and the time."""
    goal: GoalSpec = request.goal  # type: ignore[assignment]
    write_prompt_file(request)
    transcript = Transcript(request.transcript_path)
    transcript.header(f"codex {request.phase} (run {request.run_id}, iteration {request.iteration}), goal mode "
                      "through codex app-server")  # fmt: skip
    thread = _Thread(transcript)
    env = runner.environment()
    started = time.monotonic()
    outcome = PhaseOutcome(
        phase=request.phase, status="completed", prompt_path=request.prompt_path, stdout_path=request.stdout_path,
        stderr_path=request.stderr_path, transcript_path=request.transcript_path,
    )  # fmt: skip
    ending: GoalOutcome = "not_met"
    reason = ""
    sandbox = runner.options.codex_sandbox
    async with anyio.create_task_group() as tg:
        server: AppServer | None = None
        try:
            server = await AppServer.start(
                runner.app_server_argv(request), cwd=request.workspace, env=env, stdout_path=request.stdout_path,
                stderr_path=request.stderr_path, on_notification=thread.on, bypass=sandbox is None, tg=tg,
            )  # fmt: skip
        except AppServerError as exc:
            outcome.status, outcome.error_kind, outcome.message = "failed", "not_started", str(exc)
            ending, reason = "failed", str(exc)
        if server is not None:
            try:
                with anyio.move_on_after(request.timeout_seconds) as deadline:
                    ending, reason = await _drive(server, thread, request, goal, outcome, sandbox)
                if deadline.cancelled_caught:
                    outcome.status, outcome.error_kind, outcome.timed_out = "timeout", "timeout", True
                    outcome.message = f"the {request.phase} phase ran out of its {request.timeout_seconds:g} s"
                    ending, reason = "timeout", outcome.message
                if outcome.session_id and thread.goal_active:  # so that resuming the thread does not continue it
                    with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                        await server.request("thread/goal/clear", {"threadId": outcome.session_id}, 5)
            except AppServerError as exc:
                outcome.status, outcome.error_kind, outcome.message = "failed", "app_server", str(exc)
                ending, reason = "failed", str(exc)
            finally:
                swept = await server.close()
                outcome.return_code = server.proc.returncode
                if swept:
                    outcome.details["stray_processes_killed"] = len(swept)
        tg.cancel_scope.cancel()
    outcome.duration_seconds = time.monotonic() - started
    _finish(outcome, thread, goal, ending, reason)
    transcript.write("outcome", summarize(outcome))
    transcript.close()
    return outcome


async def _drive(
    server: AppServer,
    thread: _Thread,
    request: PhaseRequest,
    goal: GoalSpec,
    outcome: PhaseOutcome,
    sandbox: str | None,
) -> tuple[GoalOutcome, str]:
    """The protocol, from initialize to the goal's end; returns how the goal ended."""
    await server.request("initialize", {"clientInfo": {"name": "harnessgym", "version": "1"}}, REQUEST_TIMEOUT_SECONDS)
    await server.notify("initialized")
    # As codex exec: approvals never asked (bypassed, or refused under the sandbox the runner was given).
    params: dict[str, Any] = {"cwd": str(request.workspace), "approvalPolicy": "never",
                              "sandbox": sandbox or "danger-full-access"}  # fmt: skip
    started = await server.request("thread/start", params, REQUEST_TIMEOUT_SECONDS)
    thread_id = str((started.get("thread") or {}).get("id") or "")
    if not thread_id:
        raise AppServerError("thread/start returned no thread id")
    outcome.session_id = thread_id
    thread.transcript.write("thread.started", thread_id)
    await server.request("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": request.prompt}]},
                         REQUEST_TIMEOUT_SECONDS)  # fmt: skip
    await thread.settle(lambda: (thread.turns_completed >= 1 and thread.idle) or thread.failed is not None)
    if thread.failed:
        return "failed", thread.failed
    left = goal.token_budget - thread.tokens
    if left <= 0:
        return "budget_exhausted", f"the first turn used {thread.tokens} of {goal.token_budget} tokens"
    await server.request("thread/goal/set", {"threadId": thread_id, "objective": goal.condition, "status": "active",
                                             "tokenBudget": left}, REQUEST_TIMEOUT_SECONDS)  # fmt: skip
    # The goal's turns start by themselves; the goal is over once it is no longer active and the thread is idle.
    await thread.settle(
        lambda: (thread.goal is not None and not thread.goal_active and thread.idle) or thread.failed is not None
    )
    if thread.failed:
        return "failed", thread.failed
    status = str((thread.goal or {}).get("status"))
    return _ENDINGS.get(status, "not_met"), f"Codex set the goal {status}"


def _finish(outcome: PhaseOutcome, thread: _Thread, goal: GoalSpec, ending: GoalOutcome, reason: str) -> None:
    outcome.usage = {k: v for k, v in thread.usage.items() if k != "total_tokens"}
    outcome.final_text = thread.final_text
    outcome.details.update({"turns_completed": thread.turns_completed, "commands": thread.commands,
                            "mcp_tool_calls": thread.mcp_calls, "app_server": True})  # fmt: skip
    if thread.warnings:
        outcome.details["warnings"] = thread.warnings
    if ending == "failed" and outcome.status == "completed":
        outcome.status, outcome.error_kind = "failed", "turn_failed"
        outcome.message = f"Codex reported a failed turn: {reason}"
    tokens = thread.tokens or int((thread.goal or {}).get("tokensUsed") or 0)
    outcome.goal = GoalReport(condition=goal.condition, outcome=ending, turns=thread.turns_completed,
                              tokens_used=tokens, token_budget=goal.token_budget, reason=reason[:2000])  # fmt: skip
