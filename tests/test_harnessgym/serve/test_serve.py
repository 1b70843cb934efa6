"""``harnessgym serve`` in memory: every control tool, its errors, and the run resources, over the SDK Client.

Runs use the offline fake agent on a copy of the example task, so they really start agent processes.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.server import MCPServer
from support.serve_client import EXAMPLE, VERIFY, call, hang_script, refused
from support.waiting import wait_for_file

import harnessgym
from harnessgym.jobs import JOBS
from harnessgym.serve import ServeSettings, build_server
from mcp_host._supervise.procs import DEVNULL, kill_tree, spawn

pytestmark = pytest.mark.anyio


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The one allowed root, holding a copy of the example task as ``task``."""
    root = tmp_path / "root"
    shutil.copytree(EXAMPLE, root / "task")
    return root


@pytest.fixture
def server(root: Path, tmp_path: Path) -> MCPServer[Any]:
    return build_server(ServeSettings(allow_roots=(root,), state_dir=tmp_path / "state"))


@pytest.fixture
async def client(server: MCPServer[Any]) -> AsyncIterator[Client]:
    async with Client(server, read_timeout_seconds=60) as c:
        yield c
    # Runs go on in job workers, children of this process: each test waits for its own to end.
    assert await JOBS.wait_children(30) == []


async def test_the_server_lists_every_control_tool_and_the_run_resource_templates(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert sorted(tools) == sorted(
        [
            "start_run",
            "get_run",
            "list_runs",
            "cancel_run",
            "resume_run",
            "start_iteration",
            "start_compare",
            "get_compare",
            "cancel_compare",
            "score_workspace",
            "list_artifacts",
            "qualify_artifact",
            "promote_artifact",
            "quarantine_artifact",
        ]
    )
    assert all(t.output_schema is not None and t.description for t in tools.values())
    read_only = sorted(n for n, t in tools.items() if t.annotations and t.annotations.read_only_hint)
    assert read_only == ["get_compare", "get_run", "list_artifacts", "list_runs"]
    templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert templates == {
        "harnessgym://runs/{run_id}/summary",
        "harnessgym://runs/{run_id}/iterations/{n}/result",
        "harnessgym://runs/{run_id}/iterations/{n}/{phase}/transcript",
    }


async def test_start_run_returns_at_once_and_get_run_waits_until_the_fake_agent_solves_the_task(
    client: Client, root: Path
) -> None:
    started = await call(
        client, "start_run", workspace="task", task_file="task/task.md", verify_command=VERIFY, iterations=2
    )
    run_id = started["run_id"]
    assert started == {
        "run_id": run_id,
        "workspace": str(root / "task"),
        "status": "running",
        "summary_uri": f"harnessgym://runs/{run_id}/summary",
        "next_step": started["next_step"],
    }
    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    with anyio.fail_after(60):
        result = await client.call_tool(
            "get_run", {"run_id": run_id, "wait_seconds": 60}, progress_callback=on_progress
        )
    view = result.structured_content
    assert view is not None and not result.is_error
    run = view["run"]
    assert (run["status"], run["solved"], run["evidence"], run["best_score"]) == ("solved", True, "verified", 0.0)
    assert [(i["iteration"], i["verdict_status"], i["solved"]) for i in run["iterations"]] == [
        (1, "failed", False),
        (2, "passed", True),
    ]
    assert view["live"] is False and view["last_event"]["kind"] == "run_finished"
    assert progress and [p for p, _ in progress] == sorted(p for p, _ in progress)
    assert any(m and "iteration 2" in m for _, m in progress)


async def test_run_resources_serve_the_summary_an_iteration_record_and_a_transcript(client: Client, root: Path) -> None:
    started = await call(client, "start_run", workspace="task", task_file="task/task.md", verify_command=VERIFY)
    run_id = started["run_id"]
    await call(client, "get_run", run_id=run_id, wait_seconds=60)

    summary = json.loads((await client.read_resource(f"harnessgym://runs/{run_id}/summary")).contents[0].text)  # type: ignore[union-attr]
    assert (summary["run_id"], summary["status"], summary["solved_iteration"]) == (run_id, "solved", 2)
    record = json.loads(
        (await client.read_resource(f"harnessgym://runs/{run_id}/iterations/1/result")).contents[0].text  # type: ignore[union-attr]
    )
    assert (record["iteration"], record["verdict"]["status"], record["qualification_status"]) == (1, "failed", "passed")
    transcript = (await client.read_resource(f"harnessgym://runs/{run_id}/iterations/1/attempt/transcript")).contents
    assert "verifier.py" in transcript[0].text  # type: ignore[union-attr]

    for uri, words in [
        ("harnessgym://runs/nope/summary", "no run 'nope'"),
        (f"harnessgym://runs/{run_id}/iterations/9/result", "no record of iteration 9"),
        (f"harnessgym://runs/{run_id}/iterations/1/lunch/transcript", "use one of attempt, reflection, build"),
    ]:
        with pytest.raises(MCPError) as caught:
            await client.read_resource(uri)
        assert words in str(caught.value), uri


async def test_workspaces_and_task_files_outside_the_allowed_roots_are_refused_with_the_roots_named(
    client: Client, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    for workspace in [str(outside), "../outside", "task/../../outside", "escape"]:
        text = await refused(client, "list_artifacts", workspace=workspace)
        assert f"outside the allowed roots ({root})" in text, workspace
    text = await refused(client, "start_run", workspace="task", task_file=str(tmp_path / "t.md"))
    assert "task file" in text and f"outside the allowed roots ({root})" in text
    text = await refused(client, "start_run", workspace="missing", task_text="x")
    assert "is not an existing folder" in text


async def test_start_run_reports_bad_options_and_a_missing_task_in_words_a_model_can_act_on(client: Client) -> None:
    assert "exactly one of task_file" in await refused(client, "start_run", workspace="task")
    assert "exactly one of task_file" in await refused(client, "start_run", task_file="task/task.md", task_text="x")
    text = await refused(client, "start_run", workspace="task", task_text="fix it", runner="nope")
    assert "unknown runner 'nope'" in text
    text = await refused(client, "start_run", workspace="task", task_text="fix it", attempt_timeout="45x")
    assert "'45x' is not a duration" in text
    text = await refused(client, "start_run", workspace="task", task_file="task/none.md")
    assert "cannot be read" in text
    text = await refused(client, "start_run", workspace="task", task_text="fix it", optimization_mode=True,
                         restore_best=False, harness_depth="standard", post_attempt_timeout="1m")  # fmt: skip
    assert "give a post-attempt or verify command" in text


async def test_unknown_run_ids_are_refused_with_a_pointer_to_list_runs(client: Client) -> None:
    for tool in ("get_run", "cancel_run", "resume_run"):
        text = await refused(client, tool, run_id="20990101T000000Z-deadbeef")
        assert "no run '20990101T000000Z-deadbeef'" in text and "list_runs" in text


async def test_cancel_run_stops_the_agent_and_resume_run_finishes_the_interrupted_run(
    client: Client, root: Path
) -> None:
    ws = root / "task"
    started = await call(
        client,
        "start_run",
        workspace="task",
        task_text="write done.txt",
        verify_command="test -f done.txt",
        iterations=1,
        runner_options={"fake_script": hang_script(root)},
    )
    run_id = started["run_id"]
    await wait_for_file(ws / ".hang_once")
    assert "in use by another harnessgym run" in await refused(client, "start_run", workspace="task", task_text="x")

    with anyio.fail_after(30):
        cancelled = await call(client, "cancel_run", run_id=run_id)
    assert (cancelled["live"], cancelled["run"]["status"]) == (False, "interrupted")
    assert "is not running (status interrupted)" in await refused(client, "cancel_run", run_id=run_id)

    resumed = await call(client, "resume_run", run_id=run_id)
    assert resumed["run_id"] == run_id
    finished = await call(client, "get_run", run_id=run_id, wait_seconds=60)
    assert (finished["run"]["status"], finished["run"]["evidence"]) == ("solved", "verified")
    assert "already finished (solved)" in await refused(client, "resume_run", run_id=run_id)
    text = await refused(client, "start_run", workspace="task", task_text="again", run_id=run_id)
    assert f"run id {run_id!r} is already used" in text


async def test_a_restarted_server_lists_earlier_runs_from_its_index_and_reads_them(root: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "deep" / "a" / "b" / "c"  # deeper than the root scan reaches: only the index knows it
    shutil.copytree(EXAMPLE, elsewhere)
    settings = ServeSettings(allow_roots=(root, tmp_path / "deep"), state_dir=tmp_path / "state")
    async with Client(build_server(settings), read_timeout_seconds=60) as first:
        run_id = (await call(first, "start_run", workspace=str(elsewhere), task_text="fix", verify_command=VERIFY))[
            "run_id"
        ]
        await call(first, "get_run", run_id=run_id, wait_seconds=60)

    async with Client(build_server(settings), read_timeout_seconds=60) as second:
        listing = await call(second, "list_runs")
        assert [(r["run_id"], r["status"]) for r in listing["runs"]] == [(run_id, "solved")]
        assert str(elsewhere) in listing["workspaces"]
        view = await call(second, "get_run", run_id=run_id)
        assert (view["live"], view["run"]["workspace"]) == (False, str(elsewhere))
        summary = await second.read_resource(f"harnessgym://runs/{run_id}/summary")
        assert json.loads(summary.contents[0].text)["status"] == "solved"  # type: ignore[union-attr]


async def test_cancel_run_interrupts_a_run_that_another_process_drives_and_leaves_it_resumable(
    client: Client, root: Path
) -> None:
    ws = root / "task"
    argv = [sys.executable, "-m", "harnessgym", "run", "--workspace", str(ws), "--task-text", "write done.txt",
            "--verify-command", "test -f done.txt", "--iterations", "1", "--run-id", "elsewhere",
            "--fake-script", hang_script(root)]  # fmt: skip
    proc = await spawn(argv, stdin=DEVNULL, stdout=DEVNULL, stderr=DEVNULL)
    try:
        await wait_for_file(ws / ".hang_once")
        with anyio.fail_after(30):
            cancelled = await call(client, "cancel_run", run_id="elsewhere", workspace="task")
            assert await proc.wait() == 143  # SIGTERM: 128 + 15
    finally:
        await kill_tree(proc.pid, grace=0.5)
        await proc.aclose()
    assert cancelled["run"]["status"] == "interrupted"
    assert "is not running (status interrupted)" in await refused(client, "cancel_run", run_id="elsewhere")
    resumed = await call(client, "resume_run", run_id="elsewhere", workspace="task")
    assert resumed["run_id"] == "elsewhere"
    finished = await call(client, "get_run", run_id="elsewhere", wait_seconds=60)
    assert (finished["run"]["status"], finished["run"]["evidence"]) == ("solved", "verified")


async def test_get_run_follows_a_run_driven_elsewhere_by_reading_its_journal(client: Client, root: Path) -> None:
    ws = root / "task"
    config = harnessgym.RunConfig(
        workspace=ws,
        task_text=(ws / "task.md").read_text(),
        verify_command=VERIFY,
        run_id="driven-elsewhere",
        runner="fake",
    )
    started = anyio.Event()
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: harnessgym.run_async(config, on_event=lambda _: started.set()))
            await started.wait()
            result = await client.call_tool(
                "get_run",
                {"run_id": "driven-elsewhere", "workspace": "task", "wait_seconds": 60},
                progress_callback=on_progress,
            )
    assert result.structured_content is not None
    assert (result.structured_content["live"], result.structured_content["run"]["status"]) == (False, "solved")
    assert progress


@pytest.mark.slow
async def test_start_iteration_runs_one_iteration_with_progress_and_returns_its_record(
    client: Client, root: Path
) -> None:
    messages: list[str | None] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        messages.append(message)

    with anyio.fail_after(60):
        result = await client.call_tool(
            "start_iteration",
            {"workspace": "task", "task_file": "task/task.md", "verify_command": VERIFY, "runner": "fake"},
            progress_callback=on_progress,
        )
    view = result.structured_content
    assert view is not None and not result.is_error
    assert (view["error"], view["summary"]["status"], view["iteration"]["iteration"]) == (None, "not_solved", 1)
    assert view["iteration"]["qualification_status"] == "passed"
    assert any(m and "reflection" in m for m in messages) and any(m and "build" in m for m in messages)
    # What the iteration built is active for the next step on the same workspace.
    second = await call(client, "start_iteration", workspace="task", task_file="task/task.md", verify_command=VERIFY)
    assert second["run_id"] != view["run_id"]
    assert second["iteration"]["active_artifacts"] == ["mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json"]


@pytest.mark.slow
async def test_start_iteration_with_a_run_id_steps_that_run_on_to_its_next_iteration(
    client: Client, root: Path
) -> None:
    with anyio.fail_after(120):
        first = await call(client, "start_iteration", workspace="task", task_file="task/task.md", verify_command=VERIFY)
        run_id = first["run_id"]
        second = await call(client, "start_iteration", run_id=run_id)
        assert (second["run_id"], second["error"], second["iteration"]["iteration"]) == (run_id, None, 2)
        assert (second["summary"]["status"], second["summary"]["run_dir"]) == ("solved", first["summary"]["run_dir"])
        assert [i["iteration"] for i in second["summary"]["iterations"]] == [1, 2]
        assert [r["run_id"] for r in (await call(client, "list_runs", workspace="task"))["runs"]] == [run_id]

        assert "iteration 2 already solved the task" in await refused(client, "start_iteration", run_id=run_id)
        text = await refused(client, "start_iteration", run_id=run_id, task_text="x", runner="codex")
        assert "drop task_text, runner, or omit run_id" in text
        third = await call(client, "start_iteration", run_id=run_id, allow_solved=True)
    assert (third["iteration"]["iteration"], third["summary"]["solved_iteration"]) == (3, 2)


async def test_start_iteration_refuses_a_live_run_and_completes_an_interrupted_iteration(
    client: Client, root: Path
) -> None:
    started = await call(
        client, "start_run", workspace="task", task_text="write done.txt", verify_command="test -f done.txt",
        iterations=1, runner_options={"fake_script": hang_script(root)},
    )  # fmt: skip
    run_id = started["run_id"]
    await wait_for_file(root / "task" / ".hang_once")
    assert "already running" in await refused(client, "start_iteration", run_id=run_id)
    with anyio.fail_after(30):
        await call(client, "cancel_run", run_id=run_id)
        stepped = await call(client, "start_iteration", run_id=run_id)
    assert (stepped["iteration"]["iteration"], stepped["summary"]["status"]) == (1, "solved")


async def test_score_workspace_runs_the_verify_command_and_returns_verdict_and_score(client: Client) -> None:
    beats: list[str | None] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        beats.append(message)

    result = await client.call_tool(
        "score_workspace", {"workspace": "task", "command": VERIFY, "timeout": "30s"}, progress_callback=on_progress
    )
    verdict = result.structured_content
    assert verdict is not None and not result.is_error
    assert beats and f"running {VERIFY!r}" in str(beats[0])
    assert (verdict["status"], verdict["command"], verdict["decided_by"]) == ("failed", VERIFY, "json_status")
    assert 0 < verdict["score"] <= 1
    assert "not a duration" in await refused(client, "score_workspace", workspace="task", command=VERIFY, timeout="x")


async def test_artifacts_are_listed_quarantined_with_a_reason_requalified_and_promoted(client: Client) -> None:
    run_id = (await call(client, "start_iteration", workspace="task", task_text="fix", verify_command=VERIFY))["run_id"]
    assert run_id
    listed = await call(client, "list_artifacts", workspace="task")
    [artifact] = listed["artifacts"]
    artifact_id = artifact["id"]
    assert (artifact_id, artifact["state"]) == ("mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json", "active")

    quarantined = await call(client, "quarantine_artifact", workspace="task", artifact_id=artifact_id, reason="flaky")
    assert (quarantined["artifact"]["state"], quarantined["artifact"]["quarantine_reason"]) == ("quarantined", "flaky")
    assert "qualify it first" in await refused(client, "promote_artifact", workspace="task", artifact_id=artifact_id)

    qualified = await call(client, "qualify_artifact", workspace="task", artifact_id=artifact_id)
    assert (qualified["verdict"]["status"], qualified["artifact"]["state"]) == ("passed", "qualified")
    promoted = await call(client, "promote_artifact", workspace="task", artifact_id=artifact_id)
    assert promoted["artifact"]["state"] == "active"
    for tool in ("promote_artifact", "qualify_artifact"):
        assert "no artifact 'tool:x'" in await refused(client, tool, workspace="task", artifact_id="tool:x")


async def test_a_run_whose_worker_fails_records_the_reason_and_the_server_reports_it(
    client: Client, root: Path
) -> None:
    run_dir = root / "task" / ".harnessgym" / "runs" / "r1"
    run_dir.mkdir(parents=True)  # a run folder without its run_config.json: the worker's resume raises
    text = await refused(client, "resume_run", run_id="r1", workspace="task")
    assert text.endswith(f"run r1 could not start: run 'r1' cannot be resumed: {run_dir / 'run_config.json'} is "
                         "missing or unreadable; start a new run instead")  # fmt: skip
    [job] = JOBS.jobs(root / "task", "run", "r1")
    job = await JOBS.wait(job, 30)
    assert (job.status, job.refused, JOBS.is_alive(job)) == ("error", True, False)
    assert job.outcome is not None and job.outcome.error is not None and "cannot be resumed" in job.outcome.error
    assert (await call(client, "list_runs", workspace="task"))["runs"][0]["run_id"] == "r1"  # the server is up
