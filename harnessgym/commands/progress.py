"""Live progress for the CLI (``run`` and ``compare``), drawn with rich on a terminal, plain lines elsewhere.

On a terminal, one status line stays at the bottom and is redrawn a few times a second: the iteration and
phase, the time spent against the phase's limit, the agent's latest tool call, the tool calls and MCP calls
so far and the cost so far (when the runner reports one); a comparison adds a line per arm with trials done,
running and left and an estimate of the time left. Events that matter print above it.

Anywhere else (CI, a pipe, a file) nothing is redrawn and no control code is written: every event is one plain
line with a timestamp, and a phase that runs long without news gets a heartbeat line now and then.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from harnessgym.events import RunEvent
from harnessgym.records import RunSummary

__all__ = ["ArmCounts", "LiveState", "ProgressPrinter", "clock", "print_summary"]

_STYLE = {
    "run_started": "bold",
    "run_resumed": "bold",
    "run_continued": "bold",
    "iteration_started": "bold cyan",
    "phase_started": "dim",
    "agent_action": "dim",
    "mcp_call": "green",
    "artifact": "green",
    "verdict": "magenta",
    "warning": "yellow",
    "iteration_finished": "cyan",
    "run_finished": "bold green",
    "run_interrupted": "bold red",
}
_QUIET_ON_TTY = frozenset({"phase_finished", "agent_action"})
"""Shown in the status line on a terminal rather than as lines of their own."""
HEARTBEAT_SECONDS = 30.0
"""Without a terminal: how long a phase may go without any line before a heartbeat line says it still runs."""


def clock(seconds: float | None) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``."""
    if seconds is None:
        return "?"
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class ArmCounts:
    """One arm of a comparison: its trials done, running and left, and how long the done ones took."""

    total: int
    done: int = 0
    running: int = 0
    seconds: list[float] = field(default_factory=list)

    @property
    def left(self) -> int:
        return max(0, self.total - self.done - self.running)


@dataclass
class LiveState:
    """What the status line shows, folded from the events (pure: testable without a terminal)."""

    iteration: int | None = None
    iterations: int | None = None
    phase: str | None = None
    phase_since: float | None = None
    """``time.monotonic()`` when the phase started."""
    limit: float | None = None
    action: str = ""
    tool_calls: int = 0
    """Tool calls of the current phase."""
    mcp_calls: int = 0
    """MCP calls the host recorded for the current iteration."""
    cost_usd: float | None = None
    """Cost of the run so far, as the runner reported it per phase."""
    arms: dict[str, ArmCounts] = field(default_factory=dict)
    trial_since: float | None = None

    def apply(self, event: RunEvent, now: float) -> None:
        data = event.data
        if event.kind in ("run_started", "run_resumed", "run_continued") and isinstance(data.get("iterations"), int):
            self.iterations = int(data["iterations"])  # type: ignore[arg-type]
        if event.kind == "iteration_started":
            self.iteration, self.mcp_calls = event.iteration, 0
        elif event.kind == "phase_started":
            self.iteration = event.iteration if event.iteration is not None else self.iteration
            self.phase, self.phase_since, self.action, self.tool_calls = event.phase, now, "", 0
            limit = data.get("limit_seconds")
            self.limit = float(limit) if isinstance(limit, int | float) else None
        elif event.kind in ("agent_action", "mcp_call"):
            self.tool_calls = _int(data.get("tool_calls"), self.tool_calls)
            self.mcp_calls = max(self.mcp_calls, _int(data.get("mcp_calls"), self.mcp_calls))
            if event.kind == "agent_action":
                self.action = f"{data.get('tool', '')} {data.get('detail', '')}".strip()
        elif event.kind == "phase_finished":
            cost = data.get("cost_usd")
            if isinstance(cost, int | float):
                self.cost_usd = (self.cost_usd or 0.0) + float(cost)

    def status(self, now: float) -> str:
        """The status line: ``iteration 2/3 · attempt 0:12/45:00 · Bash python verifier.py · 4 tools · ...``."""
        parts: list[str] = []
        if self.iteration is not None:
            parts.append(f"iteration {self.iteration}" + (f"/{self.iterations}" if self.iterations else ""))
        if self.phase is not None:
            spent = None if self.phase_since is None else now - self.phase_since
            parts.append(f"{self.phase} {clock(spent)}" + (f"/{clock(self.limit)}" if self.limit else ""))
        if self.action:
            parts.append(self.action if len(self.action) <= 70 else self.action[:69] + "…")
        parts.append(f"{self.tool_calls} tool call{'s' * (self.tool_calls != 1)}")
        parts.append(f"{self.mcp_calls} MCP call{'s' * (self.mcp_calls != 1)}")
        if self.cost_usd is not None:
            parts.append(f"${self.cost_usd:.4f}")
        return " · ".join(parts) if self.phase is not None or self.iteration is not None else "starting…"

    def arm_lines(self, now: float) -> list[str]:
        """One line per arm: ``plain: 2 done, 1 running, 1 left``, then the estimate of the time left."""
        lines = [f"{name}: {a.done} done, {a.running} running, {a.left} left" for name, a in self.arms.items()]
        durations = [s for a in self.arms.values() for s in a.seconds]
        remaining = sum(a.left + a.running for a in self.arms.values())
        if lines and durations and remaining:
            mean = sum(durations) / len(durations)
            running = now - self.trial_since if self.trial_since is not None else 0.0
            left = max(0.0, mean * remaining - min(running, mean))
            lines.append(f"about {clock(math.ceil(left))} left")
        return lines


def _int(value: Any, default: int) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else default


class ProgressPrinter:
    """The CLI's event handler. Use as a context manager around the run: on a terminal it keeps the status
    line alive; elsewhere it runs the heartbeat."""

    def __init__(self, console: Console | None = None, stream: IO[str] | None = None, *,
                 heartbeat: float = HEARTBEAT_SECONDS) -> None:  # fmt: skip
        self.console = console or Console(stderr=True, highlight=False, file=stream)
        self.heartbeat = heartbeat
        self.tty = self.console.is_terminal
        self.state = LiveState()
        self._live: Live | None = None
        self._lock = threading.Lock()
        self._last_line = time.monotonic()
        self._stop = threading.Event()

    def __rich__(self) -> Text:
        now = time.monotonic()
        with self._lock:
            lines = [self.state.status(now), *self.state.arm_lines(now)]
        return Text("\n".join(lines), style="bold blue", no_wrap=True, overflow="ellipsis")

    @contextmanager
    def running(self) -> Iterator[ProgressPrinter]:
        beat: threading.Thread | None = None
        if self.tty:
            self._live = Live(self, console=self.console, refresh_per_second=4, transient=True)
            self._live.start()
        else:
            beat = threading.Thread(target=self._heartbeat, name="harnessgym-heartbeat", daemon=True)
            beat.start()
        try:
            yield self
        finally:
            self._stop.set()
            if self._live is not None:
                self._live.stop()
                self._live = None
            if beat is not None:
                beat.join(timeout=5)

    def note(self, event: RunEvent) -> None:
        """Fold ``event`` into the status line without printing it."""
        with self._lock:
            self.state.apply(event, time.monotonic())

    def __call__(self, event: RunEvent) -> None:
        self.note(event)
        if self.tty and event.kind in _QUIET_ON_TTY:
            return
        if event.kind == "phase_finished":
            return
        self.say(event.message, _STYLE.get(event.kind, ""), event.at.strftime("%H:%M:%S"))

    def say(self, message: str, style: str = "", stamp: str | None = None) -> None:
        """One line above the status line (on a terminal, styled) or one plain timestamped line."""
        stamp = stamp or time.strftime("%H:%M:%S")
        self._last_line = time.monotonic()
        if self.tty:
            text = Text(f"{stamp} ", style="dim")
            text.append(message, style=style)
            self.console.print(text)
        else:
            self.console.file.write(f"{stamp} {message}\n")
            self.console.file.flush()

    def expect(self, groups: Sequence[str], per_arm: int) -> None:
        """A comparison runs ``per_arm`` trials in each of ``groups`` (so the estimate counts arms not started)."""
        with self._lock:
            for group in groups:
                self.state.arms.setdefault(group, ArmCounts(total=per_arm))

    def trial(self, group: str, total: int, *, started: bool, seconds: float | None = None) -> None:
        """A comparison's trial of ``group`` (``total`` trials per arm) started or ended."""
        with self._lock:
            arm = self.state.arms.setdefault(group, ArmCounts(total=total))
            if started:
                arm.running += 1
                self.state.trial_since = time.monotonic()
            else:
                arm.running = max(0, arm.running - 1)
                arm.done += 1
                if seconds is not None:
                    arm.seconds.append(seconds)
            lines = self.state.arm_lines(time.monotonic())
        if not self.tty and not started:
            self.say("; ".join(lines))

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(5.0, self.heartbeat / 2)):
            now = time.monotonic()
            if now - self._last_line >= self.heartbeat:
                with self._lock:
                    line = self.state.status(now)
                self.say(f"still working: {line}")


def print_summary(summary: RunSummary, console: Console | None = None) -> None:
    """The final lines, on stdout: what upstream printed, the kind of evidence behind "solved", the artifacts
    each iteration built with their verdicts, and the per-iteration table."""
    from harnessgym.commands.ending import print_ending, stdout_console

    out = console or stdout_console()
    verified = summary.solved and summary.evidence == "verified"
    out.print(f"Run id: {summary.run_id}")
    out.print(f"Run artifacts: {summary.run_dir}")
    out.print(f"Final status: {summary.status}")
    out.print(f"Solved: {summary.solved}" + (f" (iteration {summary.solved_iteration})" if summary.solved else ""))
    out.print(f"Evidence: {summary.evidence}")
    out.print(f"Solved and verified: {verified}")
    opt = summary.optimization
    if opt is not None:

        def show(value: float | None) -> str:
            return "none" if value is None else f"{value:g}"

        out.print(f"Optimization improved: {opt.improved}")
        out.print(f"Baseline score: {show(opt.baseline_score)}")
        where = {None: "", 0: " (baseline)"}.get(opt.best_iteration, f" (iteration {opt.best_iteration})")
        out.print(f"Best score: {show(opt.best_score)}{where}")
    elif summary.best_score is not None:
        out.print(f"Best score: {summary.best_score:g}")
    restored = summary.restored_best
    if restored is not None and restored.restored:
        after = restored.post_restore_score
        out.print(
            f"Restored best: iteration {restored.iteration}, re-measured "
            f"{'passed' if restored.post_restore_passed else 'not passed'}"
            + (f", score {after:g}" if after is not None else "")
        )
    elif restored is not None and restored.reason == "failed":
        out.print(f"Restored best: {restored.message}")
    if summary.cost_usd is not None:
        out.print(f"Cost: ${summary.cost_usd:.4f}")
    if summary.active_artifacts or summary.quarantined_artifacts:
        active, quarantined = len(summary.active_artifacts), len(summary.quarantined_artifacts)
        out.print(f"Artifacts: {active} active, {quarantined} quarantined")
    if summary.message:
        out.print(summary.message)
    print_ending(summary, out)
