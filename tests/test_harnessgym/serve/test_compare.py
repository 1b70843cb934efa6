"""``harnessgym serve``'s compare tools in memory: start a comparison in the background, follow it to its
verdict with progress, cancel it, read a finished one from disk, and refuse what the library would refuse.

The fake agent really runs: harnessed trials get a fixer tool that solves the example task, plain ones do not.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server import MCPServer
from support.compare import USE_FIXER_IF_PRESENT, fixer_entry
from support.compare import artifact_source as make_source
from support.loop import script, step, wait_until
from support.serve_client import EXAMPLE, VERIFY, call, refused
from support.waiting import wait_for_file

from harnessgym.compare import CompareConfig, CompareReport, compare_async
from harnessgym.jobs import JOBS
from harnessgym.serve import ServeSettings, build_server
from runners._options import RunnerOptions

pytestmark = pytest.mark.anyio


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The one allowed root: the example task as ``template``, a workspace with an active fixer tool as
    ``source``, and the fake agent's scripts."""
    root = tmp_path / "root"
    shutil.copytree(EXAMPLE, root / "template")
    make_source(root, fixer_entry())
    return root


@pytest.fixture
def settings(root: Path, tmp_path: Path) -> ServeSettings:
    return ServeSettings(allow_roots=(root,), state_dir=tmp_path / "state")


@pytest.fixture
def server(settings: ServeSettings) -> MCPServer[Any]:
    return build_server(settings)


@pytest.fixture
async def client(server: MCPServer[Any]) -> AsyncIterator[Client]:
    async with Client(server, read_timeout_seconds=60) as c:
        yield c
    # Comparisons go on in job workers, children of this process: each test waits for its own to end.
    assert await JOBS.wait_children(30) == []


def options(root: Path, *steps: dict[str, Any]) -> dict[str, Any]:
    """start_compare's common arguments: the example task, 1 trial per group, a fake-agent script under root."""
    fake = script(root, *(steps or (USE_FIXER_IF_PRESENT,)))
    return {
        "workspace_template": "template", "task_file": "template/task.md", "artifact_source": "source",
        "output_dir": "out", "trials": 1, "verify_command": VERIFY, "attempt_timeout": "30s",
        "runner_options": {"fake_script": str(fake), "fake_home": str(root / "fake-home")},
    }  # fmt: skip


async def test_the_compare_tools_are_listed_with_their_annotations(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert {"start_compare", "get_compare", "cancel_compare"} <= set(tools)
    assert all(tools[n].output_schema is not None and tools[n].description for n in ("start_compare", "get_compare"))
    get, cancel = tools["get_compare"].annotations, tools["cancel_compare"].annotations
    assert get is not None and get.read_only_hint is True
    assert cancel is not None and (cancel.destructive_hint, cancel.idempotent_hint) == (True, True)
    schema = tools["start_compare"].input_schema["properties"]
    assert {"workspace_template", "output_dir", "artifact_source", "trials", "post_command", "alpha"} <= set(schema)


async def test_start_compare_returns_at_once_and_get_compare_follows_it_to_the_verdict_with_progress(
    client: Client, root: Path
) -> None:
    # Each attempt takes at least 0.3 s, so four trials are still going when start_compare has returned.
    paced = step("attempt", {"do": "sleep", "seconds": 0.3}, *USE_FIXER_IF_PRESENT["actions"])
    started = await call(client, "start_compare", **{**options(root, paced), "trials": 2})
    out = root / "out"
    assert started == {
        "compare_id": str(out), "output_dir": str(out), "report_path": str(out / "compare_report.json"),
        "trials_planned": 4, "status": "running", "next_step": started["next_step"],
    }  # fmt: skip
    running = await call(client, "get_compare", compare_id=started["compare_id"])
    assert (running["status"], running["live"], running["trials_planned"]) == ("running", True, 4)

    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    with anyio.fail_after(60):
        result = await client.call_tool(
            "get_compare", {"compare_id": "out", "wait_seconds": 60}, progress_callback=on_progress
        )
    view = result.structured_content
    assert view is not None and not result.is_error, result.content
    assert (view["status"], view["live"], view["error"]) == ("completed", False, None)
    assert (view["trials_finished"], view["trials_planned"], view["running_trial"]) == (4, 4, None)
    assert [line[:6] for line in view["trials"]] == ["[1/4] ", "[2/4] ", "[3/4] ", "[4/4] "]
    for line in view["trials"]:
        assert ("solved (verified)" if " harnessed " in line else "not solved") in line, line
    # 2 solved of 2 against 0 of 2: Fisher's smallest possible p for 2 vs 2 is 1/3, so no claim is made.
    verdict = view["verdict"]
    assert (verdict["outcome"], verdict["primary"]) == ("no_detectable_difference", "solve_rate")
    assert verdict["p"] == pytest.approx(1 / 3) and view["comparison"]["fisher_min_p"] == pytest.approx(1 / 3)
    assert "harnessed solved 2/2, plain 0/2" in verdict["headline"] and verdict["notes"]
    assert (view["harnessed"]["solved"], view["harnessed"]["n_valid"]) == (2, 2)
    assert (view["plain"]["solved"], view["plain"]["n_valid"]) == (0, 2)
    # Progress relayed every trial's start, its run's events and its end line, counting up.
    assert progress and [p for p, _ in progress] == list(range(1, len(progress) + 1))
    messages = [m for _, m in progress if m]
    assert [m for m in messages if m in view["trials"]] == view["trials"]
    assert "[4/4] harnessed #2: running" in messages and "[4/4] harnessed #2: iteration 1: verify" in messages
    report = CompareReport.model_validate_json((out / "compare_report.json").read_text())
    assert report.status == "completed" and report.verdict.model_dump(mode="json") == verdict


async def test_paths_outside_the_allowed_roots_are_refused_with_the_roots_named(
    client: Client, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(EXAMPLE, outside)
    for name, value in [("workspace_template", str(outside)), ("output_dir", "../elsewhere"),
                        ("artifact_source", str(outside)), ("task_file", str(outside / "task.md"))]:  # fmt: skip
        text = await refused(client, "start_compare", **{**options(root), name: value})
        assert name.replace("task_file", "task file") in text and f"outside the allowed roots ({root})" in text
    for tool in ("get_compare", "cancel_compare"):
        assert f"outside the allowed roots ({root})" in await refused(client, tool, compare_id=str(outside))
    assert not (tmp_path / "elsewhere").exists()


async def test_start_compare_reports_what_the_library_would_refuse_in_argument_names(
    client: Client, root: Path
) -> None:
    text = await refused(client, "start_compare", **{**options(root), "verify_command": None})
    assert "needs evidence" in text and "pass verify_command" in text and "--" not in text
    text = await refused(client, "start_compare", **{**options(root), "runner": "nope", "attempt_timeout": "45x"})
    assert "unknown runner 'nope'" in text and "'45x' is not a duration" in text
    text = await refused(client, "start_compare", **{**options(root), "runner_options": {"bogus": 1}})
    assert "runner_options.bogus" in text
    text = await refused(client, "start_compare", **{**options(root), "workspace_template": "missing"})
    assert "workspace_template" in text and "is not a directory" in text
    text = await refused(client, "start_compare", **{**options(root), "output_dir": "template"})
    assert "would hold the template" in text
    # No active artifact in the source: every harnessed trial would be invalid.
    make_source(root / "inactive", fixer_entry("quarantined"))
    text = await refused(client, "start_compare", **{**options(root), "artifact_source": "inactive/source"})
    assert "no artifact of" in text and "require_active_harness=false" in text
    assert not (root / "out").exists()
    assert "no comparison in" in await refused(client, "get_compare", compare_id="out")


async def test_earlier_trials_are_kept_unless_overwrite_is_given(client: Client, root: Path) -> None:
    await call(client, "start_compare", **options(root))
    first = await call(client, "get_compare", compare_id="out", wait_seconds=60)
    assert (first["status"], first["trials_finished"]) == ("completed", 2)
    before = (root / "out" / "compare_report.json").read_bytes()

    text = await refused(client, "start_compare", **options(root))
    assert "already holds trials of an earlier comparison" in text and "pass overwrite=true" in text
    # The refused start does not hide the earlier comparison, nor touch it.
    assert await call(client, "get_compare", compare_id="out") == first
    assert (root / "out" / "compare_report.json").read_bytes() == before

    await call(client, "start_compare", **{**options(root), "overwrite": True})
    again = await call(client, "get_compare", compare_id="out", wait_seconds=60)
    assert (again["status"], again["trials_finished"]) == ("completed", 2)
    assert (root / "out" / "compare_report.json").read_bytes() != before


async def test_cancel_compare_stops_the_running_trial_and_the_report_says_interrupted(
    client: Client, root: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "hanging"  # absolute: the first trial hangs, whichever group it is in
    hang = step("attempt", {"do": "once", "marker": str(marker), "actions": [{"do": "hang", "children": 1}]},
                *USE_FIXER_IF_PRESENT["actions"])  # fmt: skip
    await call(client, "start_compare", **options(root, hang))
    await wait_for_file(marker)
    text = await refused(client, "start_compare", **{**options(root), "overwrite": True})
    assert "already running" in text and "get_compare" in text
    running = await call(client, "get_compare", compare_id="out")
    assert (running["status"], running["trials_finished"]) == ("running", 0)
    assert running["running_trial"] is not None and running["running_trial"].startswith("[1/2] ")

    with anyio.fail_after(30):
        cancelled = await call(client, "cancel_compare", compare_id=str(root / "out"))
    assert (cancelled["status"], cancelled["live"], cancelled["trials_finished"]) == ("interrupted", False, 0)
    assert cancelled["verdict"]["outcome"] == "insufficient_data"
    report = json.loads((root / "out" / "compare_report.json").read_text())
    assert (report["status"], report["trials"], len(report["order"])) == ("interrupted", [], 2)
    text = await refused(client, "cancel_compare", compare_id="out")
    assert "is not running (status interrupted)" in text


async def test_a_fresh_server_reads_a_finished_comparison_from_disk(settings: ServeSettings, root: Path) -> None:
    async with Client(build_server(settings), read_timeout_seconds=60) as first:
        await call(first, "start_compare", **options(root))
        finished = await call(first, "get_compare", compare_id="out", wait_seconds=60)
    assert finished["status"] == "completed"

    async with Client(build_server(settings), read_timeout_seconds=60) as second:
        with anyio.fail_after(5):
            again = await call(second, "get_compare", compare_id=str(root / "out"), wait_seconds=30)
        assert again == finished and again["verdict"]["outcome"] == "no_detectable_difference"
        text = await refused(second, "cancel_compare", compare_id="out")
        assert "is not running (status completed)" in text

        # Without a report (a comparison another process runs, or one killed), the trials on disk still tell.
        (root / "out" / "compare_report.json").unlink()
        unfinished = await call(second, "get_compare", compare_id="out")
        assert (unfinished["status"], unfinished["trials_finished"], unfinished["trials_planned"]) == (
            "unfinished", 2, None)  # fmt: skip
        assert all(line.startswith(("[1/?] ", "[2/?] ")) for line in unfinished["trials"]), unfinished["trials"]
        assert unfinished["verdict"] is None
        (root / "out" / "compare_report.json").write_text("{")
        broken = await call(second, "get_compare", compare_id="out")
        assert broken["status"] == "error" and "cannot be read as a comparison report" in broken["error"]


async def test_get_compare_follows_a_comparison_run_elsewhere_until_its_report_appears(
    client: Client, root: Path
) -> None:
    slow = step("attempt", {"do": "sleep", "seconds": 0.5}, *USE_FIXER_IF_PRESENT["actions"])
    given = options(root, slow)
    config = CompareConfig(
        task_text="Fix numerics.py.", workspace_template=root / "template", artifact_source=root / "source",
        output_dir=root / "out", trials=1, verify_command=VERIFY, attempt_timeout=30,
        runner_options=RunnerOptions(**given["runner_options"]), runner="fake",
    )  # fmt: skip
    progress: list[str | None] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(compare_async, config)  # not this server's: only its files tell
            await wait_until(lambda: any((root / "out").glob("*/trial_1")))
            elsewhere = await call(client, "get_compare", compare_id="out")  # it holds the folder's lock
            assert (elsewhere["status"], elsewhere["live"], elsewhere["verdict"]) == ("running", False, None)
            text = await refused(client, "cancel_compare", compare_id="out")
            assert f"process {os.getpid()} is running it: stop that process" in text
            result = await client.call_tool(
                "get_compare", {"compare_id": "out", "wait_seconds": 30}, progress_callback=on_progress
            )
    view = result.structured_content
    assert view is not None and not result.is_error, result.content
    assert (view["status"], view["trials_finished"], view["trials_planned"]) == ("completed", 2, 2)
    assert view["verdict"]["outcome"] == "no_detectable_difference"
    assert progress and all(m and "no report yet" in m for m in progress)
