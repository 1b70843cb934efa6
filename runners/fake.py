"""The fake runner: drives :mod:`runners.fake_agent` exactly the way a real runner drives an agent CLI.

argv names the phase, iteration and session to resume; the prompt goes through stdin from the prompt file
(never argv, so prompts of any size work); stdout is a stream of JSON events (the first one carries the
session id) that becomes the transcript as it arrives; exit codes and timeouts mean what they mean for real
CLIs. Everything runs through :func:`mcp_host.procs.run_process`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from mcp_host.procs import run_process
from runners.base import PhaseOutcome, PhaseRequest, Runner
from runners.options import RunnerOptions

__all__ = ["FakeRunner", "default_fake_home"]


def default_fake_home() -> Path:
    return Path(tempfile.gettempdir()) / f"harnessgym-fake-agent-{os.getuid()}"


def _transcript_line(event: dict[str, Any]) -> str:
    kind = str(event.get("type", "event"))
    rest = {k: v for k, v in event.items() if k != "type"}
    return f"[{kind}] {json.dumps(rest, sort_keys=True)[:2000]}\n"


class FakeRunner(Runner):
    """Runs the scripted fake agent as a child process."""

    name: ClassVar[str] = "fake"

    def __init__(self, options: RunnerOptions) -> None:
        self.options = options
        self.home = options.fake_home or default_fake_home()

    def argv(self, request: PhaseRequest) -> list[str]:
        argv = [
            sys.executable, "-m", "runners.fake_agent",
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
        return argv

    async def run_phase(self, request: PhaseRequest) -> PhaseOutcome:
        if not request.prompt_path.exists():
            request.prompt_path.parent.mkdir(parents=True, exist_ok=True)
            request.prompt_path.write_text(request.prompt, encoding="utf-8")
        request.transcript_path.parent.mkdir(parents=True, exist_ok=True)
        seen: dict[str, Any] = {}
        with open(request.transcript_path, "w", encoding="utf-8") as transcript:

            def on_line(line: str) -> None:
                try:
                    event = json.loads(line)
                except ValueError:
                    event = None
                if not isinstance(event, dict):
                    transcript.write(f"[text] {line}\n")
                else:
                    if isinstance(event.get("session_id"), str):
                        seen.setdefault("session_id", event["session_id"])
                    if event.get("type") == "result":
                        seen["result"] = event
                    transcript.write(_transcript_line(event))
                transcript.flush()

            result = await run_process(
                self.argv(request),
                cwd=request.workspace,
                env={**os.environ, **self.options.agent_env},
                timeout=request.timeout_seconds,
                stdout_path=request.stdout_path,
                stderr_path=request.stderr_path,
                stdin_path=request.prompt_path,
                on_stdout_line=on_line,
            )
        outcome = PhaseOutcome(
            phase=request.phase,
            status="completed",
            session_id=seen.get("session_id"),
            return_code=result.returncode,
            timed_out=result.timed_out,
            duration_seconds=result.duration_seconds,
            prompt_path=request.prompt_path,
            stdout_path=request.stdout_path,
            stderr_path=request.stderr_path,
            transcript_path=request.transcript_path,
        )
        final = seen.get("result")
        if isinstance(final, dict):
            cost = final.get("total_cost_usd")
            outcome.cost_usd = float(cost) if isinstance(cost, int | float) else None
            outcome.final_text = str(final.get("result", "")) or None
        stderr_last = next((ln for ln in reversed(result.stderr_tail.splitlines()) if ln.strip()), "")
        if result.error is not None:
            outcome.status, outcome.error_kind, outcome.message = "failed", "not_started", result.error
        elif result.timed_out:
            outcome.status, outcome.error_kind = "timeout", "timeout"
            outcome.message = f"the fake agent did not finish within {request.timeout_seconds:g}s; its tree was killed"
        elif result.returncode != 0:
            outcome.status, outcome.error_kind = "failed", "nonzero_exit"
            outcome.message = f"the fake agent exited with {result.returncode}: {stderr_last}".rstrip(": ")
        elif isinstance(final, dict) and final.get("is_error"):
            outcome.status, outcome.error_kind = "failed", "turn_failed"
            outcome.message = str(final.get("result", "the fake agent reported an error"))
        return outcome
