"""HarnessGym 0.1.1's users at home (issue 10, item 8): the field names its scripts read in
``compare_report.json``, ``summary.json`` and ``activation.json`` are there beside harnessgym's own.

``upstream_report_problems`` checks a compare report the way HarnessGym 0.1.1's report checker is documented
to (``check_claude_compare_report.py --min-active-mcp 1 --min-active-tools 1 --min-mcp-calls 1``), written
from that field list; the checker itself is not on the package index, so it is not run here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from support.compare import LINES_MCP, add_lines_server
from support.loop import EXAMPLE, config, example_workspace, marked_processes, result, run_bounded, script, step

from harnessgym.compare import CompareConfig, compare_async
from mcp_host._supervise.procs import kill_tree
from runners import RunnerOptions

pytestmark = pytest.mark.anyio

POST = ("python verifier.py > .verdict.json; python -c \"import json; "
        "print(json.dumps({'cases_passed': json.load(open('.verdict.json'))['passed_cases']}))\"")  # fmt: skip
"""HarnessGym 0.1.1-style post command: exits 0 and prints a score with no status."""


def _best(trial: dict[str, Any], key: str) -> int:
    found = [trial.get("harness_validation", {}).get(key)]
    found += [row.get(key) for row in trial.get("iterations", []) if isinstance(row, dict)]
    return max([int(v) for v in found if isinstance(v, int | float)] or [0])


def _calls(trial: dict[str, Any]) -> int:
    found = [trial.get("mcp_call_count"), (trial.get("mcp_telemetry") or {}).get("count"),
             trial.get("harness_validation", {}).get("mcp_call_count")]  # fmt: skip
    return max([int(v) for v in found if isinstance(v, int | float)] or [0])


def upstream_report_problems(
    report: dict[str, Any], min_mcp: int = 1, min_tools: int = 1, min_calls: int = 1
) -> list[str]:
    """What HarnessGym 0.1.1's checker would object to, by its documented fields."""
    problems: list[str] = []
    trials = report.get("trials") or []
    groups = {t.get("group") for t in trials}
    problems += [f"no {g} trials" for g in ("plain", "harnessed") if g not in groups]
    for t in trials:
        label = f"{t.get('group')} trial {t.get('trial')}"
        if t.get("comparison_valid") is not True:
            problems.append(f"{label}: comparison_valid is not true")
        if t.get("post_result") is None:
            problems.append(f"{label}: no post_result")
        elif t.get("post_valid") is not True:
            problems.append(f"{label}: post_valid is not true")
        if not isinstance(t.get("post_score"), int | float):
            problems.append(f"{label}: no numeric post_score")
        if t.get("group") == "harnessed":
            if not t.get("copied_artifacts"):
                problems.append(f"{label}: copied_artifacts is empty")
            if _best(t, "active_mcp_count") < min_mcp:
                problems.append(f"{label}: active_mcp_count below {min_mcp}")
            if _best(t, "active_tool_count") < min_tools:
                problems.append(f"{label}: active_tool_count below {min_tools}")
            if _calls(t) < min_calls:
                problems.append(f"{label}: fewer than {min_calls} MCP calls")
    return problems


async def test_a_valid_harnessed_compare_report_passes_the_upstream_checks_with_min_mcp_calls_1(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    add_lines_server(source)
    (source / ".harnessgym" / "registry.json").write_text(json.dumps({"version": 1, "artifacts": [LINES_MCP]}))
    call = "{python} -m harnessgym mcp call --workspace . --server lines --tool inspect"
    harnessed_calls = {"do": "run", "argv": ["sh", "-c", f"test -e .harnessgym/mcp/lines || exit 0; {call}"]}
    fake = script(tmp_path, step("attempt", harnessed_calls, result(status="blocked")))
    cfg = CompareConfig(
        task_text="Fix numerics.py.", workspace_template=EXAMPLE, artifact_source=source, output_dir=tmp_path / "out",
        trials=1, runner="fake", attempt_timeout=30, post_command=POST, post_score_key="cases_passed",
        higher_is_better=True, runner_options=RunnerOptions(fake_script=fake, fake_home=tmp_path / "fake-home"),
    )  # fmt: skip
    try:
        with anyio.fail_after(90):
            report = await compare_async(cfg)
    finally:
        for ws in (tmp_path / "out").glob("*/trial_*/workspace"):
            for pid in marked_processes(ws):  # the on-demand host daemon `harnessgym mcp call` started
                await kill_tree(pid, grace=1.0)
    data = json.loads((tmp_path / "out" / "compare_report.json").read_text())
    assert upstream_report_problems(data) == []
    harnessed = next(t for t in data["trials"] if t["group"] == "harnessed")
    assert harnessed["harness_validation"]["active_tool_count"] == 1 and harnessed["mcp_telemetry"]["count"] == 1
    assert data["workspace_template"] == str(cfg.workspace_template) and data["artifact_source"] == str(source)
    # and a report where the harnessed trial made no call fails the same checks
    assert report.harnessed.mcp_call_count == 1


async def test_summary_and_activation_keep_the_keys_upstream_scripts_read(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    add_lines_server(ws)
    (ws / ".harnessgym" / "registry.json").write_text(json.dumps({"version": 1, "artifacts": [LINES_MCP]}))
    with anyio.fail_after(90):
        summary = await run_bounded(config(ws, tmp_path, script(tmp_path, step("attempt", result(status="blocked"))),
                                           iterations=1), 80)  # fmt: skip
    run_dir = ws / ".harnessgym" / "runs" / summary.run_id
    data = json.loads((run_dir / "summary.json").read_text())
    assert {"run_id", "iterations", "final_status", "solved", "best_score"} <= set(data)
    assert data["final_status"] == data["status"] == "not_solved"
    row = data["iterations"][0]
    assert {"iteration", "status", "solved", "result_path"} <= set(row)
    assert row["result_path"] == str(run_dir / "iterations" / "1" / "result.json")
    activation = json.loads((ws / ".harnessgym" / "activation.json").read_text())
    assert {"skills", "mcp_servers", "quarantined_artifacts", "warnings", "quality_gate"} <= set(activation)
    server = activation["mcp_servers"][0]
    assert (server["name"], server["artifact_path"], server["active"]) == ("lines", LINES_MCP["path"], True)
    gate = activation["quality_gate"]
    assert (gate["status"], gate["active_mcp_count"], gate["inactive_mcp_count"], gate["active_tool_count"]) == (
        "passed", 1, 0, 1)  # fmt: skip
