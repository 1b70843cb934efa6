"""Goal mode for Claude Code (verified with 2.1.197): the attempt prompt, then ``/goal <condition>`` on the same
session, in print mode with the stream-json events the runner already parses.

1. ``claude -p --session-id S`` with the attempt prompt: an ordinary first turn.
2. ``claude -p --resume S`` with ``/goal <condition>`` (stdin ``<phase>.goal.prompt.txt``; its output goes to
   ``<phase>.goal.stdout.txt``/``.goal.stderr.txt``, the transcript continues). ``/goal`` is a session-scoped
   Stop hook: at each stop a separate tool-less request judges the condition, and Claude continues while it is
   not met (each continuation shows as a "Stop hook feedback" user message in the stream).
3. When the goal did not end on its own (budget, timeout), ``/goal clear`` on resume: a Claude goal survives
   being killed, and the reflection's resume would otherwise restart the judging loop.

Claude has **no goal budget of its own** (a never-met goal made 172 model requests in 12 s), so the runner counts
the tokens of every assistant message as it streams and kills the CLI's tree once the budget is spent. How the
goal ended is read from the session file Claude writes (``<config>/projects/<cwd slug>/<S>.jsonl``, its
``goal_status`` attachments: ``met``, or ``failed`` when the judge found it impossible), never from screen text.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from ._base import PhaseOutcome, PhaseRequest
from ._cli_events import CliEvents, Transcript, int_usage, run_cli_phase
from ._goal import GoalOutcome, GoalReport, GoalSpec, TokenMeter

if TYPE_CHECKING:
    from ._claude import ClaudeRunner

__all__ = ["run_claude_goal", "session_goal_status"]

CLEAR_TIMEOUT_SECONDS = 60.0
_SESSION_FILE_LIMIT = 256 * 1024 * 1024
_FEEDBACK = "Stop hook feedback"


def _sibling(path: Path, tag: str) -> Path:
    """``attempt.stdout.txt`` → ``attempt.goal.stdout.txt``."""
    stem, dot, rest = path.name.partition(".")
    return path.with_name(f"{stem}.{tag}{dot}{rest}" if dot else f"{stem}.{tag}")


def _message_tokens(message: dict[str, Any]) -> int:
    usage = int_usage(message.get("usage"))
    keys = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    return sum(usage.get(k, 0) for k in keys)


class _Metered:
    """Wraps a runner's event reader: counts tokens and continuations, cancels the run when the budget is spent."""

    def __init__(self, inner: CliEvents, meter: TokenMeter, scope: anyio.CancelScope) -> None:
        self.inner = inner
        self.transcript = inner.transcript
        self.meter = meter
        self.scope = scope
        self.continuations = 0

    def handle(self, event: dict[str, Any]) -> None:
        self.inner.handle(event)
        message = event.get("message")
        if not isinstance(message, dict):
            return
        if event.get("type") == "assistant":
            key = str(message.get("id")) if message.get("id") else None
            if self.meter.add(_message_tokens(message), key) and not self.scope.cancel_called:
                self.transcript.write("goal", f"token budget spent ({self.meter.used} of {self.meter.budget})")
                self.scope.cancel()
        elif event.get("type") == "user" and _FEEDBACK in json.dumps(message.get("content"))[:200]:
            self.continuations += 1

    def apply(self, outcome: PhaseOutcome) -> None:
        self.inner.apply(outcome)


async def _step(
    runner: ClaudeRunner, request: PhaseRequest, session_id: str, meter: TokenMeter | None,
    make_events: Callable[[Transcript, str], CliEvents],
) -> tuple[PhaseOutcome, int, bool]:  # fmt: skip
    """One print-mode run; returns its outcome, the continuations seen, and whether the budget stopped it."""
    env = runner.environment(request)
    config_path: Path | None = None
    if request.mcp is not None:
        config_path = runner.mcp_config_path(request)
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(json.dumps(runner.mcp_config(request, request.mcp, env), indent=2))
    argv = runner.argv(request, session_id, config_path)
    mode = f"resuming session {session_id}" if request.session_id else f"new session {session_id}"
    started = time.monotonic()
    with anyio.CancelScope() as scope:
        inner = make_events(Transcript(request.transcript_path), session_id)
        events = _Metered(inner, meter or TokenMeter(2**62), scope)
        outcome = await run_cli_phase("claude", argv, request, env, events, f"{mode} (goal mode)")
        return outcome, events.continuations, False
    # The budget cancelled the run: run_process killed the CLI's whole tree before the cancellation reached here.
    stopped = PhaseOutcome(
        phase=request.phase, status="completed", session_id=session_id, duration_seconds=time.monotonic() - started,
        prompt_path=request.prompt_path, stdout_path=request.stdout_path, stderr_path=request.stderr_path,
        transcript_path=request.transcript_path, message="stopped: the goal's token budget is spent",
    )  # fmt: skip
    return stopped, events.continuations, True


def session_goal_status(env: dict[str, str], session_id: str) -> dict[str, Any] | None:
    """The last ``goal_status`` attachment of the session file Claude Code wrote, if any."""
    config = Path(env["CLAUDE_CONFIG_DIR"]) if env.get("CLAUDE_CONFIG_DIR") else Path(env.get("HOME", "~")) / ".claude"
    last: dict[str, Any] | None = None
    for path in (config.expanduser() / "projects").glob(f"*/{session_id}.jsonl"):
        try:
            if not path.is_file() or path.stat().st_size > _SESSION_FILE_LIMIT:
                continue
            with open(path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if '"goal_status"' not in line:
                        continue
                    try:
                        attachment = json.loads(line).get("attachment")
                    except (ValueError, AttributeError):
                        continue
                    if isinstance(attachment, dict) and attachment.get("type") == "goal_status":
                        last = attachment
        except OSError:
            continue
    return last


def _ending(outcome: PhaseOutcome, budget_hit: bool, status: dict[str, Any] | None) -> tuple[GoalOutcome, str]:
    if budget_hit:
        return "budget_exhausted", outcome.message
    if outcome.status == "timeout":
        return "timeout", outcome.message
    if status is not None and status.get("met") is True:
        return "met", str(status.get("reason", ""))
    if status is not None and status.get("failed"):
        return "impossible", str(status.get("reason", ""))
    if outcome.status != "completed":
        return "failed", outcome.message
    return "not_met", str((status or {}).get("reason", "the session ended with the goal still open"))


def _merge(first: PhaseOutcome, second: PhaseOutcome) -> PhaseOutcome:
    """The phase's outcome: the goal step's status and text, both steps' usage and cost."""
    merged = second.model_copy(deep=True)
    merged.duration_seconds = first.duration_seconds + second.duration_seconds
    for key, value in first.usage.items():
        merged.usage[key] = merged.usage.get(key, 0) + value
    costs = [c for c in (first.cost_usd, second.cost_usd) if c is not None]
    merged.cost_usd = sum(costs) if costs else None
    merged.stdout_path, merged.stderr_path, merged.prompt_path = first.stdout_path, first.stderr_path, first.prompt_path
    merged.details["goal_stdout_path"] = str(second.stdout_path) if second.stdout_path else None
    merged.permission_denials = first.permission_denials + second.permission_denials
    return merged


async def run_claude_goal(
    runner: ClaudeRunner, request: PhaseRequest, make_events: Callable[[Transcript, str], CliEvents]
) -> PhaseOutcome:
    """The attempt prompt, then its goal on the same session, within the budget and the phase's time."""
    goal: GoalSpec = request.goal  # type: ignore[assignment]
    session_id = request.session_id or str(uuid.uuid4())
    meter = TokenMeter(goal.token_budget)
    deadline = time.monotonic() + request.timeout_seconds
    first, _, budget_hit = await _step(runner, request, session_id, meter, make_events)
    outcome, turns = first, 1
    if first.status == "completed" and not budget_hit:
        prompt = _sibling(request.prompt_path, "goal")
        prompt.write_text(f"/goal {' '.join(goal.condition.split())}\n", encoding="utf-8")
        goal_request = request.model_copy(update={
            "session_id": session_id, "prompt_path": prompt, "prompt": prompt.read_text(),
            "stdout_path": _sibling(request.stdout_path, "goal"), "stderr_path": _sibling(request.stderr_path, "goal"),
            "timeout_seconds": max(1.0, deadline - time.monotonic()),
        })  # fmt: skip
        second, continuations, budget_hit = await _step(runner, goal_request, session_id, meter, make_events)
        outcome, turns = _merge(first, second), 2 + continuations
    status = session_goal_status(runner.environment(request), session_id)
    ending, reason = _ending(outcome, budget_hit, status)
    if ending not in ("met", "impossible") and first.status == "completed":
        await _clear(runner, request, session_id, make_events)
    used = max(meter.used, sum(outcome.usage.get(k, 0) for k in (
        "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")))  # fmt: skip
    outcome.goal = GoalReport(condition=goal.condition, outcome=ending, turns=turns, tokens_used=used,
                              token_budget=goal.token_budget, reason=reason[:2000])  # fmt: skip
    outcome.session_id = session_id
    if budget_hit:
        outcome.status, outcome.error_kind = "completed", None
        outcome.message = f"the goal's token budget is spent ({used} of {goal.token_budget} tokens)"
    transcript = Transcript(request.transcript_path)
    transcript.write("goal", f"{ending} after {turns} turn(s), {used} tokens: {reason}")
    transcript.close()
    return outcome


async def _clear(
    runner: ClaudeRunner, request: PhaseRequest, session_id: str, make_events: Callable[[Transcript, str], CliEvents]
) -> None:
    """``/goal clear`` on the session, so the next resume does not restart the judging loop."""
    prompt = _sibling(request.prompt_path, "goal-clear")
    prompt.write_text("/goal clear\n", encoding="utf-8")
    clear = request.model_copy(update={
        "session_id": session_id, "prompt_path": prompt, "prompt": "/goal clear\n", "mcp": None,
        "stdout_path": _sibling(request.stdout_path, "goal-clear"),
        "stderr_path": _sibling(request.stderr_path, "goal-clear"), "timeout_seconds": CLEAR_TIMEOUT_SECONDS,
    })  # fmt: skip
    await _step(runner, clear, session_id, None, make_events)
