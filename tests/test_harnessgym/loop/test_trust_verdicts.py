"""Verdicts a user can trust (issue 10, items 1, 2, 3 and 9): no silent fake agent, a bare metrics object is no
pass, a stop score is a measured stop, and ``python3 -m harnessgym.cli run`` runs."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from support.loop import (
    config,
    example_workspace,
    harnessgym_argv,
    record,
    result,
    run_bounded,
    script,
    step,
)

from mcp_host._supervise.procs import ProcResult, run_process
from runners import RunnerOptions

pytestmark = pytest.mark.anyio

BUGGY_PROJECT = {
    "calc.py": "def add(a, b):\n    return a - b\n",
    "test_calc.py": "from calc import add\n\ndef test_add():\n    assert add(2, 2) == 4\n",
}
"""A real project that is not the demo: one failing test."""
TASK = "Fix the failing tests and verify them."
"""HarnessGym 0.1.1's README task text."""


async def cli(tmp_path: Path, *argv: str, path: str | None = None, timeout: float = 90) -> tuple[ProcResult, str, str]:
    n = len(list(tmp_path.glob("cli-*.out")))
    out, err = tmp_path / f"cli-{n}.out", tmp_path / f"cli-{n}.err"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    if path is not None:
        env["PATH"] = path
    proc = await run_process(list(argv), timeout=timeout, stdout_path=out, stderr_path=err, env=env, cwd=tmp_path)
    return proc, out.read_text(), err.read_text()


def project(tmp_path: Path) -> Path:
    ws = tmp_path / "project"
    ws.mkdir()
    for name, text in BUGGY_PROJECT.items():
        (ws / name).write_text(text)
    return ws


# -- 1. no silent fake agent ------------------------------------------------------------------------------


async def test_no_runner_and_no_agent_cli_on_the_path_is_an_error_naming_the_choices(tmp_path: Path) -> None:
    ws = project(tmp_path)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    # HarnessGym 0.1.1's README line, without --runner
    argv = harnessgym_argv("run", "--task-text", TASK, "--workspace", str(ws), "--iterations", "2")
    proc, out, err = await cli(tmp_path, *argv, path=str(empty))
    assert proc.returncode == 1, (out, err)
    assert "no agent CLI found on the PATH" in err and "Traceback" not in err
    for choice in ("--runner codex", "--runner claude", "--runner fake"):
        assert choice in err
    assert "Final status" not in out
    assert not (ws / ".harnessgym" / "runs").exists() or not any((ws / ".harnessgym" / "runs").iterdir())


def test_auto_prefers_codex_then_claude_on_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harnessgym.config import resolve_runner
    from harnessgym.errors import NoRunnerError

    bins = tmp_path / "bin"
    bins.mkdir()
    for name in ("codex", "claude"):
        (bins / name).symlink_to(sys.executable)  # any executable file: only the lookup is under test
    monkeypatch.setenv("PATH", str(bins))
    assert resolve_runner("auto", RunnerOptions())[0] == "codex"
    (bins / "codex").unlink()
    name, why = resolve_runner("auto", RunnerOptions())
    assert name == "claude" and str(bins / "claude") in why
    assert resolve_runner("claude", RunnerOptions())[0] == "claude"
    (bins / "claude").unlink()
    with pytest.raises(NoRunnerError):
        resolve_runner("auto", RunnerOptions())
    assert resolve_runner("auto", RunnerOptions(fake_script=tmp_path / "s.json"))[0] == "fake"


async def test_the_runner_is_printed_at_the_start_and_recorded(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    proc, _, err = await cli(tmp_path, *harnessgym_argv("run", "--task", str(ws / "task.md"), "--workspace", str(ws),
                               "--iterations", "2", "--runner", "fake", "--verify-command", "python verifier.py",
                               "--run-id", "demo"))  # fmt: skip
    assert proc.returncode == 0, err
    assert re.fullmatch(r"\d\d:\d\d:\d\d Runner: fake \(chosen with --runner\)", err.splitlines()[0]), err
    summary = json.loads((ws / ".harnessgym/runs/demo/summary.json").read_text())
    assert (summary["runner"], summary["final_status"], summary["solved"]) == ("fake", "solved", True)
    assert json.loads((ws / ".harnessgym/runs/demo/run_config.json").read_text())["runner"] == "fake"


@pytest.mark.slow
async def test_the_fake_agent_without_a_script_claims_nothing_and_builds_nothing_off_the_demo(tmp_path: Path) -> None:
    ws = project(tmp_path)
    argv = harnessgym_argv("run", "--task-text", TASK, "--workspace", str(ws), "--iterations", "2", "--runner", "fake",
                           "--run-id", "r")  # fmt: skip
    proc, out, err = await cli(tmp_path, *argv)
    assert proc.returncode == 0, err
    assert "Final status: not_solved" in out and "Solved and verified: False" in out
    assert {p.name: p.read_text() for p in ws.iterdir() if p.is_file()} == BUGGY_PROJECT
    registry = json.loads((ws / ".harnessgym/registry.json").read_text())
    assert registry["artifacts"] == []
    assert not any((ws / ".harnessgym" / "tools").iterdir())
    transcript = (ws / ".harnessgym/runs/r/iterations/1/attempt.transcript.txt").read_text()
    assert "has no script for this task" in transcript


# -- 2. a bare metrics object is not a pass ---------------------------------------------------------------

BLOCKED = step("attempt", result(status="blocked", summary="I could not do it"))


async def test_a_bare_metrics_object_from_the_post_attempt_command_is_not_a_pass(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    metrics = 'python -c \'print("{\\"best_ms\\": 123}")\''
    cfg = config(ws, tmp_path, script(tmp_path, BLOCKED), iterations=1, post_attempt_command=metrics,
                 qualify_artifacts=False)  # fmt: skip
    summary = await run_bounded(cfg)
    assert (summary.solved, summary.evidence, summary.status) == (False, "none", "not_solved")
    rec = record(ws, summary.run_id, 1)
    assert rec.post_attempt is not None and rec.post_attempt.passed and rec.post_attempt.score is None
    assert (rec.status, rec.solved) == ("blocked", False)


async def test_a_stated_passing_status_or_a_measured_stop_score_is_a_pass(tmp_path: Path) -> None:
    stated = 'python -c \'print("{\\"status\\": \\"passed\\", \\"best_ms\\": 123}")\''
    ws = example_workspace(tmp_path, "stated")
    summary = await run_bounded(config(ws, tmp_path, script(tmp_path, BLOCKED), iterations=1,
                                       post_attempt_command=stated, qualify_artifacts=False))  # fmt: skip
    assert (summary.solved, summary.evidence) == (True, "verified")
    fast = 'python -c \'print("{\\"best_ms\\": 1.5}")\''
    ws = example_workspace(tmp_path, "fast")
    summary = await run_bounded(config(ws, tmp_path, script(tmp_path, BLOCKED), iterations=2, post_attempt_command=fast,
                                       post_attempt_score_key="best_ms", stop_score=2.0,
                                       qualify_artifacts=False))  # fmt: skip
    assert (summary.solved, summary.evidence, len(summary.iterations)) == (True, "verified", 1)


# -- 3. --stop-score means a measured stop ----------------------------------------------------------------

CLAIMS_SOLVED = step("attempt", result(status="solved", verified=True, metrics={"best_cycles": 0.5}))


async def test_with_a_stop_score_the_agents_claim_does_not_end_the_run(tmp_path: Path) -> None:
    # HarnessGym 0.1.1's README forces every iteration with --stop-score 1 and no measuring command.
    ws = example_workspace(tmp_path)
    cfg = config(ws, tmp_path, script(tmp_path, CLAIMS_SOLVED), iterations=3, stop_score=1.0,
                 score_key="best_cycles", qualify_artifacts=False)  # fmt: skip
    summary = await run_bounded(cfg, 90)
    assert len(summary.iterations) == 3
    first = record(ws, summary.run_id, 1)
    assert first.target_reached is False  # the claimed 0.5 is no measurement
    assert {"reflection", "build"} <= set(first.phases)  # not skipped as "solved"


async def test_with_a_stop_score_a_passing_verify_below_target_keeps_going(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    passes = 'python -c \'print("{\\"status\\": \\"passed\\", \\"score\\": 5}")\''
    cfg = config(ws, tmp_path, script(tmp_path, BLOCKED), iterations=2, verify_command=passes, stop_score=1.0,
                 qualify_artifacts=False)  # fmt: skip
    summary = await run_bounded(cfg)
    assert len(summary.iterations) == 2 and all(not record(ws, summary.run_id, n).target_reached for n in (1, 2))


# -- 9. python3 -m harnessgym.cli run ... ------------------------------------------------------------------


async def test_python_dash_m_harnessgym_cli_runs_the_command(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    proc, out, err = await cli(tmp_path, sys.executable, "-m", "harnessgym.cli", "run", "--task", str(ws / "task.md"),
                               "--workspace", str(ws), "--iterations", "1", "--runner", "fake",
                               "--run-id", "m")  # fmt: skip
    assert proc.returncode == 0, err
    assert "Run id: m" in out and (ws / ".harnessgym/runs/m/summary.json").is_file()


# -- 4. imported bundles are checked before use -----------------------------------------------------------


def import_upstream_bundle(ws: Path) -> None:
    """A HarnessGym 0.1.1-style bundle copied in: its registry (no schema_version) calls everything active; the
    MCP server has a syntax error appended, the tool is fine."""
    from runners.fake_agent import MCP_SERVER

    server = ws / ".harnessgym" / "mcp" / "lines"
    server.mkdir(parents=True)
    text = MCP_SERVER.format(framing="content-length", self_test=True, name="lines", tools=["inspect"])
    (server / "server.py").write_text(text + "\n)syntax error(\n")
    manifest = {"name": "lines", "command": "python3", "args": [".harnessgym/mcp/lines/server.py"],
                "enabled_tools": ["inspect"], "self_test": True}  # fmt: skip
    (server / "harnessgym-mcp.json").write_text(json.dumps(manifest))
    (ws / ".harnessgym" / "tools").mkdir(parents=True)
    (ws / ".harnessgym" / "tools" / "probe.py").write_text("print('ok')\n")
    artifacts = [{"id": "mcp:.harnessgym/mcp/lines/harnessgym-mcp.json", "kind": "mcp",
                  "path": ".harnessgym/mcp/lines/harnessgym-mcp.json", "metadata": {"source": "codex"}},
                 {"kind": "tool", "path": ".harnessgym/tools/probe.py"}]  # fmt: skip
    (ws / ".harnessgym" / "registry.json").write_text(json.dumps({"version": 1, "artifacts": artifacts}))


async def test_an_imported_bundle_is_qualified_before_its_first_activation(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    import_upstream_bundle(ws)
    summary = await run_bounded(config(ws, tmp_path, script(tmp_path, BLOCKED), iterations=1), 60)
    states = {a["id"]: a["state"] for a in json.loads((ws / ".harnessgym/registry.json").read_text())["artifacts"]}
    assert states == {"mcp:.harnessgym/mcp/lines/harnessgym-mcp.json": "quarantined",
                      "tool:.harnessgym/tools/probe.py": "active"}  # fmt: skip
    activation = json.loads((ws / f".harnessgym/runs/{summary.run_id}/iterations/1/activation.json").read_text())
    assert activation["mcp_servers"] == [] and activation["tools"] == ["tool:.harnessgym/tools/probe.py"]
    rec = record(ws, summary.run_id, 1)
    assert any("failed qualification before its first activation" in p for p in rec.problems)
    # once qualified, the tool carries a verdict for its content and is not qualified again; a change undoes it
    from harnessgym import store
    from harnessgym.artifacts.qualification import has_verdict
    from harnessgym.store.layout import Layout

    registry, _ = store.read_registry(Layout(ws))
    tool = next(a for a in registry.artifacts if a.kind == "tool")
    assert has_verdict(Layout(ws), tool)
    (ws / ".harnessgym" / "tools" / "probe.py").write_text("print('changed')\n")
    assert not has_verdict(Layout(ws), tool)


# -- 10. where harnessgym chose otherwise than HarnessGym 0.1.1, --help and the README say so ---------------


async def test_help_and_readme_state_the_defaults_that_differ_from_harnessgym_0_1_1(tmp_path: Path) -> None:
    _, run_help, _ = await cli(tmp_path, *harnessgym_argv("run", "--help"))
    _, compare_help, _ = await cli(tmp_path, *harnessgym_argv("compare", "--help"))
    flat_run, flat_compare = " ".join(run_help.split()), " ".join(compare_help.split())
    assert "[default: auto]" in flat_run and "HarnessGym 0.1.1 defaulted to exec (codex)" in flat_run
    assert "a bare metrics object is no pass" in flat_run
    assert "HarnessGym 0.1.1 defaulted to 1" in flat_compare and "[default: 3; x>=1]" in flat_compare
    assert "HarnessGym 0.1.1's compare defaulted to 5m" in flat_compare and "[default: 45m]" in flat_compare
    assert "0.1.1 read 'score' whatever --score-key said" in flat_compare
    assert "[default: auto]" in flat_compare
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme.split("## Coming from HarnessGym 0.1.1", 1)[1].split("\n## ", 1)[0]
    for row in ("| `--runner` | `exec` (Codex) |", "| `compare --trials` | 1 | 3 |",
                "| `compare --attempt-timeout` | 5m | 45m", "| `compare --post-score-key` | `score` |"):  # fmt: skip
        assert row in section
