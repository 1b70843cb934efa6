"""`harnessgym report` writes one self-contained page (and a Markdown twin) that headless Chromium renders:
a screenshot that is not blank, no console message, nothing fetched; and `harnessgym compares list|show`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from support.chromium import ensure_chromium, ink, render
from support.loop import VERIFY, config, example_workspace, harnessgym_argv, run_bounded

from harnessgym.compare import compare_async
from harnessgym.compare.models import CompareConfig
from harnessgym.report.compare import _suite, difference_label
from harnessgym.report.page import Page, to_html
from mcp_host import ProcResult, run_process

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True, scope="module")
def _chromium() -> None:
    ensure_chromium()  # installed from Debian's packages when missing (also done once at collection)


SCREENSHOTS = Path("/tmp/harnessgym-report-screenshots")
"""Where the screenshots are also kept, to look at after a run."""


async def cli(tmp_path: Path, *args: str) -> tuple[ProcResult, str, str]:
    n = len(list(tmp_path.glob("cli-*.out")))
    out, err = tmp_path / f"cli-{n}.out", tmp_path / f"cli-{n}.err"
    result = await run_process(harnessgym_argv(*args), timeout=120, stdout_path=out, stderr_path=err, cwd=tmp_path)
    return result, out.read_text(), err.read_text()


def assert_self_contained(page: str) -> None:
    assert "<script" not in page.lower()
    refs = re.findall(r"""(?:src|href|xlink:href)\s*=\s*["']([^"']*)""", page, flags=re.I)
    assert all(r.startswith("#") for r in refs), refs  # only references within the page
    assert not re.search(r"url\(\s*['\"]?(?:https?:|//)", page, flags=re.I)
    assert "@import" not in page


async def assert_renders(page: Path, name: str) -> None:
    rendering = await render(page, page.with_suffix(".png"))
    assert rendering.console == []
    assert ink(rendering.screenshot) > 0.02, "the screenshot is blank"
    SCREENSHOTS.mkdir(exist_ok=True)
    shutil.copy(rendering.screenshot, SCREENSHOTS / f"{name}.png")


async def test_the_chromium_check_sees_console_errors_and_blank_pages(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><script>console.error("boom"); missing();</script></body></html>')
    rendering = await render(bad, tmp_path / "bad.png", width=400, height=300)
    assert any("boom" in m for m in rendering.console) and any("missing" in m for m in rendering.console)
    assert ink(rendering.screenshot) < 0.001


@pytest.mark.slow
async def test_a_run_report_shows_scores_mcp_calls_artifacts_and_phases_and_renders(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    summary = await run_bounded(config(ws, tmp_path, verify_command=VERIFY), 90)
    ok, out, err = await cli(tmp_path, "report", str(summary.run_dir))
    assert ok.returncode == 0, err
    html, md = summary.run_dir / "report.html", summary.run_dir / "report.md"
    assert out == f"Report: {html}\nMarkdown: {md}\n"
    page = html.read_text()
    assert_self_contained(page)
    assert page.count("<svg") == 4  # score, MCP calls, artifact timeline, phase durations
    for heading in ("Iterations", "Score per iteration", "MCP calls per iteration", "Artifacts", "Phase durations"):
        assert f"<h2>{heading}</h2>" in page and f"## {heading}" in md.read_text()
    twin = md.read_text()
    assert "| iteration | numcheck__failing_cases | total |\n|---|---|---|\n| 1 | 0 | 0 |\n| 2 | 1 | 1 |" in twin
    assert "| 2 | claims solved | verify passed | 0 | 0 | 1 |" in twin
    assert "mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json: passed qualification, active" in twin
    await assert_renders(html, "run")
    # The workspace stands for its newest run.
    ok, out, _ = await cli(tmp_path, "report", str(ws), "--output", str(tmp_path / "ws.html"))
    assert ok.returncode == 0 and (tmp_path / "ws.md").is_file()


@pytest.mark.slow
async def test_a_comparison_report_and_compares_list_and_show(tmp_path: Path) -> None:
    source = example_workspace(tmp_path, "trained")
    await run_bounded(config(source, tmp_path, verify_command=VERIFY), 90)
    template = example_workspace(tmp_path, "template")
    out = tmp_path / "cmp"
    cfg = CompareConfig(task_text=(template / "task.md").read_text(), task_path=template / "task.md",
                        workspace_template=template, artifact_source=source, output_dir=out, trials=2,
                        verify_command=VERIFY, runner="fake")  # fmt: skip
    report = await compare_async(cfg)
    assert report.status == "completed"

    ok, listed, _ = await cli(tmp_path, "compares", "list", str(tmp_path), "--json")
    [row] = json.loads(listed)
    assert (row["output_dir"], row["status"], row["trials"], row["planned"]) == (str(out), "completed", 4, 4)
    ok, shown, _ = await cli(tmp_path, "compares", "show", str(out))
    assert ok.returncode == 0 and report.verdict.headline[:60] in shown.replace("\n", " ")

    ok, _, err = await cli(tmp_path, "report", str(out))
    assert ok.returncode == 0, err
    page = (out / "report.html").read_text()
    assert_self_contained(page)
    for heading in ("Per-task difference in solve rate", "Differences in time and score", "Arms",
                    "Leave-one-out effect of each artifact", "Trials"):  # fmt: skip
        assert f"<h2>{heading}</h2>" in page, heading
    assert page.count("<svg") == 2  # the forest plots
    twin = (out / "report.md").read_text()
    assert "| harnessed | 2/2 |" in twin and "| plain | 2/2 |" in twin
    await assert_renders(out / "report.html", "compare")


async def test_suite_fields_render_as_forest_plots_and_tables(tmp_path: Path) -> None:
    """The shape branch `suite` gives ``CompareReport.suite``: rendered when a report carries it."""
    effect = {"measure": "solve_rate", "runner": "fake", "treated": "harnessed", "control": "plain", "n_tasks": 3,
              "mean_difference": 0.25, "ci": [0.05, 0.45], "p": 0.25, "p_method": "exact", "improved": 2,
              "regressed": 0, "unchanged": 1}  # fmt: skip
    suite = {
        "tasks": ["a", "b", "c"], "runners": ["fake"],
        "arms": [{"arm": arm, "runner": "fake", "n_trials": 6, "n_valid": 6, "solved": 3, "solve_rate": 0.5,
                  "tool_use_rate": None, "median_attempt_seconds": 12.0, "cost_usd": None,
                  "cost_per_solved_task": None} for arm in ("plain", "harnessed", "minus:skill:x")],
        "differences": [{"task": t, "runner": "fake", "treated": "harnessed", "control": "plain", "n_treated": 2,
                         "n_control": 2, "solve_rate_treated": 1.0, "solve_rate_control": 0.5,
                         "solve_rate_difference": 0.5, "solve_rate_ci": [-0.2, 0.9], "change": "improved"}
                        for t in ("a", "b", "c")]
                       + [{"task": "a", "runner": None, "treated": "harnessed",
                           "control": "minus:mcp:.harnessgym/mcp/probe/harnessgym-mcp.json", "n_treated": 2,
                           "n_control": 2, "solve_rate_treated": 1.0, "solve_rate_control": 1.0,
                           "solve_rate_difference": 0.0, "solve_rate_ci": [-0.6, 0.6], "change": "unchanged"}],
        "effects": [effect, {**effect, "measure": "score", "mean_difference": 0.5, "ci": [0.1, 0.9]}],
        "artifacts": [{"artifact": "skill:x", "runner": "fake", "effect": effect, "suggestion": "keep",
                       "reason": "removing it lost solves"}],
    }  # fmt: skip
    sections = _suite(suite)
    assert [s.heading for s in sections] == ["Per-task paired differences in solve rate", "Across tasks", "Arms",
                                             "Leave-one-out effect of each artifact"]  # fmt: skip
    assert sections[0].table is not None and len(sections[0].table.rows) == 4
    assert sections[0].table.rows[-1][1] == "-"  # a leave-one-out difference has no runner: a dash, not "None"
    # the forest plot names a leave-one-out arm by what it leaves out, and shows no "()" for a missing runner
    labels = [difference_label(d) for d in suite["differences"]]
    assert labels[0] == "a · harnessed vs plain (fake)" and labels[-1] == "a · harnessed vs -probe"
    # across tasks, a solve rate is in points like everywhere else on the page; a score keeps its own unit
    across = sections[1].table
    assert across is not None and across.rows[0][3:5] == ["+25 points", "+5 to +45"]
    assert across.rows[1][3:5] == ["0.5", "+0.1 to +0.9"]
    assert sections[-1].table is not None and sections[-1].table.rows[0][:3] == ["skill:x", "fake", "+25 points"]
    page = tmp_path / "suite.html"
    page.write_text(to_html(Page("suite", sections=sections)))
    assert_self_contained(page.read_text())
    await assert_renders(page, "suite")


async def test_report_on_a_folder_that_holds_neither_says_where_to_look(tmp_path: Path) -> None:
    failed, _, err = await cli(tmp_path, "report", str(tmp_path))
    assert failed.returncode == 1 and "harnessgym runs list" in err and "harnessgym compares list" in err


def test_names_the_agent_chose_cannot_inject_markup_into_the_page() -> None:
    from harnessgym.report import plots
    from harnessgym.report.page import Section, Table

    hostile = 'x--><script>alert(1)</script><img src="http://example.invalid/x.png">'
    svg = plots.mcp_calls([1, 2], {2: {hostile: 1}})
    page = to_html(Page(hostile, facts=[("Run", hostile)], sections=[
        Section(hostile, notes=[hostile], svg=svg, table=Table([hostile], [[hostile]]))]))  # fmt: skip
    assert "<script" not in page and "<img" not in page
    assert_self_contained(page)
