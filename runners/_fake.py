"""The fake runner: drives :mod:`runners.fake_agent` exactly the way a real runner drives an agent CLI.

argv names the phase, iteration and session to resume; the prompt goes through stdin from the prompt file
(never argv, so prompts of any size work); stdout is a stream of JSON events (the first one carries the
session id) that becomes the transcript as it arrives; exit codes, signals and timeouts mean what they mean for
real CLIs (the same :func:`runners._cli_events.outcome_from_process` judges them). Everything runs through
:func:`mcp_host._supervise.procs.run_process`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from mcp_host import run_process
from runners._base import PhaseOutcome, PhaseRequest, Runner
from runners._cli_events import json_lines, outcome_from_process, phase_env, report_action, write_prompt_file
from runners._goal import GoalOutcome, GoalReport
from runners._options import RunnerOptions

__all__ = ["FakeRunner", "default_fake_home", "fake_goal_report"]

_OUTCOMES: frozenset[str] = frozenset(GoalOutcome.__args__)  # type: ignore[attr-defined]


def default_fake_home() -> Path:
    return Path(tempfile.gettempdir()) / f"harnessgym-fake-agent-{os.getuid()}"


def _transcript_line(event: dict[str, Any]) -> str:
    kind = str(event.get("type", "event"))
    rest = {k: v for k, v in event.items() if k != "type"}
    return f"[{kind}] {json.dumps(rest, sort_keys=True)[:2000]}\n"


class FakeRunner(Runner):
    """Runs the scripted fake agent as a child process."""

    name: ClassVar[str] = "fake"
    supports_goal: ClassVar[bool] = True

    def __init__(self, options: RunnerOptions) -> None:
        self.options = options
        self.home = options.fake_home or default_fake_home()

    def argv(self, request: PhaseRequest) -> list[str]:
        argv = [
            sys.executable, "-I", "-m", "runners.fake_agent",
            "--phase", request.phase,
            "--iteration", str(request.iteration),
            "--run-id", request.run_id,
            "--workspace", str(request.workspace),
            "--result-path", str(request.result_path),
            "--home", str(self.home),
        ]  # fmt: skip
        if self.options.fake_script is not None:
            argv += ["--script", str(self.options.fake_script)]
        if request.session_id is not None:
            argv += ["--resume", request.session_id]
        if request.repair_index is not None:
            argv += ["--repair-index", str(request.repair_index)]
        if request.mcp is not None:
            argv += ["--mcp-server", request.mcp.name]
        if request.goal is not None and request.phase == "attempt":
            argv += ["--goal", request.goal.condition, "--goal-budget", str(request.goal.token_budget)]
        return argv

    async def run_phase(self, request: PhaseRequest) -> PhaseOutcome:
        write_prompt_file(request)
        request.transcript_path.parent.mkdir(parents=True, exist_ok=True)
        seen: dict[str, Any] = {}
        with open(request.transcript_path, "w", encoding="utf-8") as transcript:

            def write(line: str) -> None:
                transcript.write(line)
                transcript.flush()

            def on_event(event: dict[str, Any]) -> None:
                if isinstance(event.get("session_id"), str):
                    seen.setdefault("session_id", event["session_id"])
                if event.get("type") == "result":
                    seen["result"] = event
                elif event.get("type") in ("goal", "goal_turn"):
                    seen[str(event["type"])] = event
                elif event.get("type") == "tool_use":
                    tool_input = event.get("input")
                    command = tool_input.get("command", "") if isinstance(tool_input, dict) else ""
                    report_action(request, event.get("name"), command, mcp=bool(event.get("mcp")))
                write(_transcript_line(event))

            result = await run_process(
                self.argv(request),
                cwd=request.workspace,
                env={**os.environ, **phase_env(request), **self.options.agent_env, **request.env},
                timeout=request.timeout_seconds,
                stdout_path=request.stdout_path,
                stderr_path=request.stderr_path,
                stdin_path=request.prompt_path,
                on_stdout_line=json_lines(on_event, lambda text: write(f"[text] {text}\n")),
            )
        outcome = outcome_from_process(request, result)
        outcome.session_id = seen.get("session_id")
        final = seen.get("result")
        if isinstance(final, dict):
            cost = final.get("total_cost_usd")
            outcome.cost_usd = float(cost) if isinstance(cost, int | float) else None
            outcome.final_text = str(final.get("result", "")) or None
            if outcome.status == "completed" and final.get("is_error"):
                outcome.status, outcome.error_kind = "failed", "turn_failed"
                outcome.message = str(final.get("result", "the fake agent reported an error"))
        if request.goal is not None and request.phase == "attempt":
            outcome.goal = fake_goal_report(request, outcome, seen)
        return outcome


def fake_goal_report(request: PhaseRequest, outcome: PhaseOutcome, seen: dict[str, Any]) -> GoalReport:
    """The goal's end as the fake agent reported it; a phase that timed out or failed says so instead."""
    assert request.goal is not None
    end, last = seen.get("goal") or {}, seen.get("goal_turn") or {}
    status = str(end.get("status", "not_met"))
    if outcome.status == "timeout":
        status = "timeout"
    elif outcome.status != "completed" and not end:
        status = "failed"
    turns, used = end.get("turns", last.get("turn", 0)), end.get("tokens_used", last.get("tokens_used", 0))
    return GoalReport.model_validate({
        "condition": request.goal.condition, "outcome": status if status in _OUTCOMES else "not_met",
        "turns": turns if isinstance(turns, int) else 0, "tokens_used": used if isinstance(used, int) else 0,
        "token_budget": request.goal.token_budget, "reason": str(end.get("reason", outcome.message))[:2000],
    })  # fmt: skip
