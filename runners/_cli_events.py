"""What the agent CLI runners share: environment, transcript, the run itself, stray-process sweep (Claude Code
and Codex), and reading a CLI's JSON lines and judging its exit (the fake runner too).

:func:`run_cli` starts the agent CLI through :func:`mcp_host._supervise.procs.run_process` with the prompt file as stdin
(never an open pipe, never argv: prompts can exceed the argument-length limit), hands every stdout line that is
a JSON object to the runner's event handler as it arrives, and afterwards kills every process the phase left
behind, including ones that escaped the process tree.

Why a sweep: Claude Code starts its Bash tool's shell in a new session, so a backgrounded ``sleep 300 &`` is
reparented to init once that shell exits and is neither in the CLI's process group nor below it.
``run_process`` tags the CLI's environment (``mcp_host._supervise.procs.PROC_TAG_VAR``) and kills every process still
carrying the tag when the phase ends.

Nothing here may write outside the paths a :class:`~runners._base.PhaseRequest` names (files *next to* the
transcript, such as Claude's MCP config, are part of the phase's files).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from mcp_host import ProcResult, run_process
from runners._base import AgentAction, PhaseOutcome, PhaseRequest

log = logging.getLogger(__name__)

__all__ = [
    "CliEvents",
    "Transcript",
    "agent_environment",
    "clip",
    "int_usage",
    "json_lines",
    "outcome_from_process",
    "phase_env",
    "report_action",
    "run_cli",
    "run_cli_phase",
    "summarize",
    "write_prompt_file",
]


def clip(text: str, limit: int = 400) -> str:
    """One line, at most ``limit`` characters, for the transcript."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def int_usage(usage: Mapping[str, Any] | None) -> dict[str, int]:
    """The integer counters of a usage object (nested breakdowns and strings are dropped)."""
    if not isinstance(usage, Mapping):
        return {}
    return {str(k): int(v) for k, v in usage.items() if isinstance(v, int) and not isinstance(v, bool)}


def agent_environment(
    base: Mapping[str, str], agent_env: Mapping[str, str], quiet: Mapping[str, str]
) -> dict[str, str]:
    """The CLI's environment: ``base`` (the parent's), then ``quiet`` defaults the caller did not set, then
    ``agent_env`` over everything, then a fresh phase tag."""
    env = dict(base)
    for key, value in quiet.items():
        env.setdefault(key, value)
    env.update(agent_env)
    return env


def phase_env(request: PhaseRequest) -> dict[str, str]:
    """Variables naming the phase, so a ``harnessgym mcp call`` from the agent's shell tags its telemetry line
    with the iteration and phase (the run id is among the run's marker variables already)."""
    return {"HARNESSGYM_ITERATION": str(request.iteration), "HARNESSGYM_PHASE": request.phase}


def report_action(request: PhaseRequest, tool: object, detail: object = "", *, mcp: bool = False) -> None:
    """Tell the loop the agent started a tool call; an observer's failure never reaches the runner."""
    if request.on_action is None:
        return
    try:
        request.on_action(AgentAction(tool=clip(str(tool), 120) or "?", detail=clip(str(detail), 200), mcp=mcp))
    except Exception:  # an observer's bug must not break the phase
        pass


class Transcript:
    """A readable, append-only log of a session, one line per event, flushed as it is written."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = open(path, "a", encoding="utf-8")
        self._start = time.monotonic()

    def write(self, kind: str, text: str = "") -> None:
        if self._fh is None:
            return
        stamp = f"[{time.monotonic() - self._start:7.2f}s]"
        self._fh.write(f"{stamp} {kind}: {text}\n" if text else f"{stamp} {kind}\n")
        self._fh.flush()

    def header(self, text: str) -> None:
        if self._fh is not None:
            self._fh.write(f"# {text}\n")
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class CliEvents(Protocol):
    """A runner's reader of its CLI's events: it writes the transcript as they arrive and refines the outcome."""

    transcript: Transcript

    def handle(self, event: dict[str, Any]) -> None: ...

    def apply(self, outcome: PhaseOutcome) -> None:
        """Refine the outcome the process alone gave (session id, usage, the CLI's own verdict)."""


def write_prompt_file(request: PhaseRequest) -> None:
    """Write the prompt to ``request.prompt_path`` unless the loop already did: it is the CLI's stdin."""
    if not request.prompt_path.exists():
        request.prompt_path.parent.mkdir(parents=True, exist_ok=True)
        request.prompt_path.write_text(request.prompt, encoding="utf-8")


def json_lines(on_event: Callable[[dict[str, Any]], None], on_text: Callable[[str], None]) -> Callable[[str], None]:
    """A stdout line handler: JSON objects go to ``on_event``, any other non-empty line to ``on_text``.

    An event ``on_event`` fails on (a parser's bug, an event of a shape it did not expect) is logged and goes to
    ``on_text`` instead, so the transcript keeps it; the events after it are handled as usual.
    """

    def on_line(line: str) -> None:
        text = line.strip()
        event: Any = None
        if text.startswith("{"):
            try:
                event = json.loads(text)
            except (ValueError, RecursionError):
                event = None
        if isinstance(event, dict):
            try:
                on_event(event)
            except Exception:  # the per-event guard: one unreadable event never costs the ones after it
                log.exception("could not read the CLI event %r; kept as text", text[:200])
                on_text(text)
        elif text:
            on_text(text)

    return on_line


async def run_cli(
    argv: Sequence[str],
    request: PhaseRequest,
    env: Mapping[str, str],
    on_event: Callable[[dict[str, Any]], None],
    transcript: Transcript,
) -> tuple[ProcResult, list[int]]:
    """Run the CLI for ``request``; return the process result and the pids of stray processes swept after it."""
    write_prompt_file(request)

    def on_stderr(line: str) -> None:
        if line.strip():
            transcript.write("stderr", clip(line))

    # run_process tags the CLI's environment and, when it ends, kills every process still carrying the tag.
    result = await run_process(
        argv,
        cwd=request.workspace,
        env=env,
        timeout=request.timeout_seconds,
        stdout_path=request.stdout_path,
        stderr_path=request.stderr_path,
        stdin_path=request.prompt_path,
        on_stdout_line=json_lines(on_event, lambda text: transcript.write("stdout", clip(text))),
        on_stderr_line=on_stderr,
    )
    if result.swept:
        transcript.write("cleanup", f"killed {len(result.swept)} process(es) the agent left behind: {result.swept}")
    return result, result.swept


async def run_cli_phase(
    label: str, argv: Sequence[str], request: PhaseRequest, env: Mapping[str, str], events: CliEvents, mode: str
) -> PhaseOutcome:
    """One phase of an agent CLI from start to outcome: a transcript header, the run (:func:`run_cli`), the
    outcome as the process tells it refined by the CLI's events, and a closing transcript line. The transcript
    is closed whatever happens."""
    transcript = events.transcript
    transcript.header(f"{label} {request.phase} (run {request.run_id}, iteration {request.iteration}), {mode}")
    try:
        result, swept = await run_cli(argv, request, env, events.handle, transcript)
        outcome = outcome_from_process(request, result)
        events.apply(outcome)
        if swept:
            outcome.details["stray_processes_killed"] = len(swept)
        transcript.write("outcome", summarize(outcome))
    finally:
        transcript.close()
    return outcome


def summarize(outcome: PhaseOutcome) -> str:
    """One transcript line for the end of a phase."""
    parts: list[str] = [outcome.status]
    if outcome.error_kind:
        parts.append(f"({outcome.error_kind})")
    parts.append(f"session {outcome.session_id}, exit {outcome.return_code}, {outcome.duration_seconds:.1f} s")
    if outcome.message:
        parts.append("- " + clip(outcome.message, 600))
    return " ".join(parts)


def outcome_from_process(request: PhaseRequest, result: ProcResult) -> PhaseOutcome:
    """The outcome as far as the process alone tells: not started, timed out, or exited with its code.

    Runners then refine it from the CLI's own events (an exit code of 0 is not success on its own).
    """
    outcome = PhaseOutcome(
        phase=request.phase,
        status="completed",
        return_code=result.returncode,
        timed_out=result.timed_out,
        duration_seconds=result.duration_seconds,
        prompt_path=request.prompt_path,
        stdout_path=request.stdout_path,
        stderr_path=request.stderr_path,
        transcript_path=request.transcript_path,
    )
    if result.error is not None:
        outcome.status, outcome.error_kind, outcome.message = "failed", "not_started", result.error
    elif result.timed_out:
        outcome.status, outcome.error_kind = "timeout", "timeout"
        outcome.message = f"the {request.phase} phase ran out of its {request.timeout_seconds:g} s and was killed"
    elif result.returncode is not None and result.returncode < 0:
        outcome.status, outcome.error_kind = "interrupted", "interrupted"
        outcome.message = f"the agent CLI was killed by signal {-result.returncode} from outside harnessgym"
    elif result.returncode != 0:
        outcome.status, outcome.error_kind = "failed", "nonzero_exit"
        tail = clip(result.stderr_tail[-600:], 600)
        outcome.message = f"the agent CLI exited with code {result.returncode}" + (f": {tail}" if tail else "")
    return outcome
