"""Live progress and the readable end of `harnessgym run`: a status line on a terminal, plain timestamped lines
through a pipe, and at the end the artifacts with their verdicts and the per-iteration table."""

from __future__ import annotations

import io
import re
from pathlib import Path

import anyio
import pytest
from support.loop import VERIFY, example_workspace, harnessgym_argv
from support.terminal import run_in_terminal

from harnessgym.commands.progress import LiveState, ProgressPrinter
from harnessgym.events import RunEvent
from mcp_host import run_process

STAMP = re.compile(r"^\d\d:\d\d:\d\d ")


def _demo_argv(ws: Path) -> list[str]:
    return harnessgym_argv("run", "--task", str(ws / "task.md"), "--workspace", str(ws), "--iterations", "2",
                           "--runner", "fake", "--verify-command", VERIFY)  # fmt: skip


def _event(kind: str, iteration: int | None = None, phase: str | None = None, **data: object) -> RunEvent:
    return RunEvent.model_validate({"kind": kind, "run_id": "r", "iteration": iteration, "phase": phase,
                                    "message": kind, "data": data})  # fmt: skip


def test_the_status_line_shows_phase_time_against_its_limit_the_latest_tool_and_the_counts() -> None:
    state = LiveState()
    state.apply(_event("run_started", iterations=3), now=0.0)
    state.apply(_event("iteration_started", 2), now=0.0)
    state.apply(_event("phase_started", 2, "attempt", limit_seconds=2700.0), now=100.0)
    state.apply(_event("agent_action", 2, "attempt", tool="Bash", detail="python verifier.py", tool_calls=3,
                       mcp_calls=0), now=101.0)  # fmt: skip
    state.apply(_event("mcp_call", 2, "attempt", tool="numcheck__failing_cases", tool_calls=3, mcp_calls=1), now=102)
    assert state.status(now=175.0) == (
        "iteration 2/3 · attempt 1:15/45:00 · Bash python verifier.py · 3 tool calls · 1 MCP call"
    )
    state.apply(_event("phase_finished", 2, "attempt", cost_usd=0.25), now=180.0)
    state.apply(_event("phase_started", 2, "verify", limit_seconds=120.0), now=180.0)
    assert state.status(now=185.0) == "iteration 2/3 · verify 0:05/2:00 · 0 tool calls · 1 MCP call · $0.2500"


def test_a_comparison_counts_trials_per_arm_and_estimates_the_time_left() -> None:
    printer = ProgressPrinter(stream=io.StringIO())
    printer.expect(("plain", "harnessed"), 2)
    printer.trial("plain", 2, started=True)
    assert printer.state.arm_lines(now=0.0)[:2] == ["plain: 0 done, 1 running, 1 left",
                                                    "harnessed: 0 done, 0 running, 2 left"]  # fmt: skip
    printer.trial("plain", 2, started=False, seconds=60.0)
    printer.trial("harnessed", 2, started=True)
    lines = printer.state.arm_lines(now=printer.state.trial_since or 0.0)
    assert lines == ["plain: 1 done, 0 running, 1 left", "harnessed: 0 done, 1 running, 1 left", "about 3:00 left"]


@pytest.mark.slow
@pytest.mark.anyio
async def test_through_a_pipe_the_demo_prints_plain_timestamped_lines_and_a_readable_end(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    result = await run_process(_demo_argv(ws), timeout=120, stdout_path=out, stderr_path=err, cwd=tmp_path)
    stdout, stderr = out.read_text(), err.read_text()
    assert result.returncode == 0, stderr
    assert "\x1b" not in stdout + stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and all(STAMP.match(line) for line in lines), lines
    # The host at work: the server iteration 1 built is served, and iteration 2's agent calls it.
    assert any("the host serves numcheck__failing_cases to the next session" in line for line in lines)
    call = next(i for i, line in enumerate(lines) if "attempt: Bash harnessgym mcp call" in line)
    served = next(i for i, line in enumerate(lines) if "the host served numcheck__failing_cases (completed" in line)
    assert call < served
    assert ("Artifacts built or changed:\n  iteration 1: mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json: passed "
            "qualification, active, tools: failing_cases\n") in stdout  # fmt: skip
    table = stdout.split("Iterations\n", 1)[1].splitlines()
    header = next(line for line in table if "attempt" in line)
    assert re.findall(r"\S+(?: \S+)*", header) == ["iter", "attempt", "evidence", "score", "best so far",
                                                   "MCP calls", "duration", "cost"]  # fmt: skip
    rows = [re.split(r"\s{2,}", line.strip()) for line in table if re.match(r"\s+[12]\s", line)]
    assert [row[:6] for row in rows] == [["1", "claims blocked", "verify failed", "0.5714", "0.5714", "0"],
                                         ["2", "claims solved", "verify passed", "0", "0", "1"]]  # fmt: skip


@pytest.mark.slow
@pytest.mark.anyio
async def test_in_a_terminal_the_demo_redraws_a_status_line_and_ends_with_the_table(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    code, text = await run_in_terminal(_demo_argv(ws), cwd=tmp_path)
    assert code == 0, text[-3000:]
    assert "\x1b[" in text  # drawn, not printed
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert re.search(r"iteration 2/2 · attempt \d+:\d\d/45:00 · Bash harnessgym mcp call", plain), plain[-3000:]
    assert "the host served numcheck__failing_cases (completed" in plain
    assert "Final status: solved" in plain and "best so far" in plain and "claims solved" in plain


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_comparison_through_a_pipe_counts_trials_per_arm_in_plain_lines(tmp_path: Path) -> None:
    template = example_workspace(tmp_path, "template")
    argv = harnessgym_argv("compare", "--task", str(template / "task.md"), "--workspace-template", str(template),
                           "--no-require-active-harness", "--output-dir", str(tmp_path / "out"), "--trials", "2",
                           "--verify-command", VERIFY, "--runner", "fake")  # fmt: skip
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    result = await run_process(argv, timeout=120, stdout_path=out, stderr_path=err, cwd=tmp_path)
    stderr = err.read_text()
    assert result.returncode == 0, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and all(STAMP.match(line) for line in lines) and "\x1b" not in stderr, lines
    arms = [line.split(" ", 1)[1] for line in lines if " done, " in line]
    assert len(arms) == 4 and arms[-1] == "plain: 2 done, 0 running, 0 left; harnessed: 2 done, 0 running, 0 left"
    assert all("about " in line and " left" in line for line in arms[:-1])
    assert any("iteration 1 attempt: Bash python verifier.py" in line for line in lines)


@pytest.mark.anyio
async def test_without_a_terminal_a_long_quiet_phase_gets_heartbeat_lines() -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream=stream, heartbeat=0.2)
    printer(_event("phase_started", 1, "attempt", limit_seconds=60.0))
    with printer.running(), anyio.fail_after(10):
        while "still working" not in stream.getvalue():  # noqa: ASYNC110 - the heartbeat is a thread's timer
            await anyio.sleep(0.05)
    beat = stream.getvalue().splitlines()[-1]
    assert STAMP.match(beat) and re.search(r"still working: iteration 1 · attempt \d+:\d\d/1:00 · 0 tool calls", beat)
