"""`harnessgym run` and `harnessgym schema` from the outside: bad input gets one clear message and a non-zero exit."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from support.loop import VERIFY, example_workspace, harnessgym_argv

from mcp_host._supervise.procs import ProcResult, run_process

pytestmark = pytest.mark.anyio


async def cli(tmp_path: Path, *args: str, timeout: float = 60) -> tuple[ProcResult, str, str]:
    n = len(list(tmp_path.glob("cli-*.out")))
    out, err = tmp_path / f"cli-{n}.out", tmp_path / f"cli-{n}.err"
    result = await run_process(harnessgym_argv(*args), timeout=timeout, stdout_path=out, stderr_path=err,
                               env={**os.environ, "TMPDIR": str(tmp_path)}, cwd=tmp_path)  # fmt: skip
    return result, out.read_text(), err.read_text()


async def test_the_readme_demo_ends_solved_at_iteration_two_with_independent_evidence(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path, "x")
    result, out, _ = await cli(tmp_path, "run", "--task", str(ws / "task.md"), "--workspace", str(ws),
                               "--iterations", "2", "--runner", "fake", "--verify-command", VERIFY)  # fmt: skip
    assert result.returncode == 0
    assert "Final status: solved" in out and "Solved: True (iteration 2)" in out and "Evidence: verified" in out


@pytest.mark.slow
async def test_bad_input_gets_one_clear_message_and_keeps_what_was_recorded(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    ok, out, _ = await cli(tmp_path, "run", "--task-text", "Fix numerics.py.", "--workspace", str(ws),
                           "--run-id", "keep", "--verify-command", VERIFY, "--runner", "fake")  # fmt: skip
    assert ok.returncode == 0, out
    before = {p: p.read_bytes() for p in (ws / ".harnessgym").rglob("*") if p.is_file() and p.name != "lock"}
    cases = [
        (("--task", "missing.md"), 1, "task file"),
        (("--task-text", "t", "--runner", "gpt"), 2, "'gpt' is not one of"),
        (("--task-text", "t", "--attempt-timeout", "45x"), 2, "'45x' is not a duration"),
        (("--task-text", "t", "--attempt-timeouts", "5m,oops"), 2, "'oops' is not a duration"),
        (("--task-text", "t", "--verify-timeout", "0"), 2, "'0' is not allowed: a time limit must be positive"),
        (("--task-text", "t", "--resume", "nope"), 1, "no run 'nope'"),
        (("--task-text", "t", "--resume", "keep"), 1, "already finished"),
        (("--task", "a", "--task-text", "b"), 2, "exactly one of --task"),
        (("--task-text", "t", "--run-id", "keep"), 1, "run id 'keep' is already used"),
        (("--task-text", "t", "--run-id", "../x"), 2, "may hold only letters"),
    ]
    for args, code, message in cases:
        result, _, err = await cli(tmp_path, "run", "--workspace", str(ws), "--runner", "fake", *args)
        assert (result.returncode, message in err) == (code, True), (args, err)
        assert err.count("Error") == 1 and "Traceback" not in err, err
    after = {p: p.read_bytes() for p in (ws / ".harnessgym").rglob("*") if p.is_file() and p.name != "lock"}
    assert after == before


async def test_a_missing_agent_cli_stops_the_run_with_one_clear_message(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    result, out, _ = await cli(tmp_path, "run", "--task-text", "t", "--workspace", str(ws), "--iterations", "3",
                               "--runner", "claude", "--claude-bin", str(tmp_path / "no-claude"))  # fmt: skip
    assert result.returncode == 1 and "Final status: error" in out
    assert "the agent could not be started (could not start" in out and out.count("iteration") <= 1


async def test_a_workspace_that_is_not_writable_is_refused(tmp_path: Path) -> None:
    result, _, err = await cli(tmp_path, "run", "--task-text", "t", "--workspace", "/sys", "--runner", "fake")
    assert result.returncode == 1 and "workspace /sys is not writable" in err and "Traceback" not in err
    result, _, err = await cli(
        tmp_path, "run", "--task-text", "t", "--workspace", str(tmp_path / "nowhere"), "--runner", "fake"
    )
    assert result.returncode == 1 and "does not exist" in err


@pytest.mark.slow
async def test_a_prompt_larger_than_the_argument_limit_reaches_the_agent_through_a_file(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    big = tmp_path / "big-task.md"
    big.write_text("Fix numerics.py.\n" + "x" * (os.sysconf("SC_ARG_MAX") + 100_000))
    result, _, err = await cli(tmp_path, "run", "--task", str(big), "--workspace", str(ws), "--run-id", "big",
                                 "--iterations", "1", "--runner", "fake")  # fmt: skip
    assert result.returncode == 0, err
    transcript = (ws / ".harnessgym/runs/big/iterations/1/attempt.transcript.txt").read_text()
    init = json.loads(transcript.splitlines()[0].split(" ", 1)[1])
    assert init["prompt_chars"] > os.sysconf("SC_ARG_MAX")


@pytest.mark.slow
async def test_schema_prints_each_records_json_schema(tmp_path: Path) -> None:
    result, out, _ = await cli(tmp_path, "schema")
    names = out.split()
    assert {"run-config", "result", "iteration", "registry", "activation", "summary", "journal-entry"} <= set(names)
    for name in names:
        result, out, err = await cli(tmp_path, "schema", name)
        assert result.returncode == 0, err
        assert "properties" in json.loads(out)


async def test_help_loads_no_heavy_module_and_run_help_lists_its_options_under_sections(tmp_path: Path) -> None:
    # What keeps --help instant is what it does not import; its time is a figure of bench/cli_startup.py.
    heavy = "import sys, harnessgym.cli; print(sorted({'pydantic', 'mcp', 'anyio', 'rich'} & set(sys.modules)))"
    loaded = await run_process([sys.executable, "-c", heavy], timeout=30, stdout_path=tmp_path / "heavy.out")
    assert (loaded.returncode, (tmp_path / "heavy.out").read_text()) == (0, "[]\n")
    result, out, _ = await cli(tmp_path, "--help")
    assert result.returncode == 0 and "Usage: harnessgym" in out

    result, out, _ = await cli(tmp_path, "run", "--help")
    headings = [line for line in out.splitlines() if line.endswith(":") and not line.startswith(" ")]
    assert headings == ["Task:", "Run:", "Evidence:", "Time limits:", "Artifacts:", "Agent:", "Claude Code:", "Codex:",
                        "Other options:"]  # fmt: skip
    task = out.split("Task:")[1].split("Run:")[0]
    assert "--task TEXT" in task and "--task-text" in task and "--workspace" in task
    assert "--claude-model" in out.split("Claude Code:")[1].split("Codex:")[0]
