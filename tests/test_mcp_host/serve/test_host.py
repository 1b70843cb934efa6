"""The host, driven by the real MCP SDK client over stdio, against hostile servers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from hostile.helpers import ROOT, SDK_SERVER, host_client, make_manifest, text_of
from support.waiting import wait_until

from mcp_host import load_manifest, summarize_calls, write_active_servers
from mcp_host._supervise.procs import run_process
from mcp_host._supervise.proctable import alive

pytestmark = pytest.mark.anyio


def _activate(workspace: Path, *dirs: Path) -> None:
    write_active_servers(workspace, [load_manifest(d, workspace) for d in dirs])


async def test_the_host_survives_hostile_servers_and_answers_every_call_once(tmp_path: Path) -> None:
    nl = make_manifest(tmp_path, "nl", framing="newline", timeouts={"tool_seconds": 1})
    cl = make_manifest(tmp_path, "cl", "--framing", "content-length", "--ignore-sigterm", timeouts={"tool_seconds": 1})
    _activate(tmp_path, nl, cl)
    progress: list[float] = []
    notes: list[Any] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async def on_message(message: Any) -> None:
        notes.append(message)

    results: dict[str, Any] = {}
    with anyio.fail_after(60):
        async with host_client(
            tmp_path, "--run-id", "r1", "--iteration", "2", "--phase", "attempt", message_handler=on_message
        ) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"nl__echo", "cl__echo", "nl__crash", "cl__big"} <= tools

            async def call(key: str, name: str, args: dict[str, Any], with_progress: bool = False) -> None:
                callback = on_progress if with_progress else None
                results[key] = await client.call_tool(name, args, progress_callback=callback)

            async with anyio.create_task_group() as tg:
                for i in range(5):
                    tg.start_soon(call, f"echo-nl-{i}", "nl__echo", {"i": i})
                    tg.start_soon(call, f"echo-cl-{i}", "cl__echo", {"i": i})
                tg.start_soon(call, "hang", "cl__hang", {})
                tg.start_soon(call, "late", "nl__sleep", {"seconds": 1.4})
                tg.start_soon(call, "garbage", "nl__garbage", {})
                tg.start_soon(call, "bad_length", "cl__bad_length", {})
                tg.start_soon(call, "notify", "nl__notify_first", {}, True)
                tg.start_soon(call, "flood", "cl__stderr_flood", {"kb": 200})
                tg.start_soon(call, "big", "cl__big", {"size": 10_000_000})
                tg.start_soon(call, "child", "nl__spawn_child", {})
            # A crash fails only its own server's calls: nl's call in flight at the same time succeeds.
            async with anyio.create_task_group() as tg:
                tg.start_soon(call, "crash", "cl__crash", {})
                tg.start_soon(call, "meanwhile", "nl__sleep", {"seconds": 0.3})
            assert text_of(results["meanwhile"]) == "slept 0.3"
            for i in range(5):
                assert json.loads(text_of(results[f"echo-nl-{i}"]))["args"] == {"i": i}
                assert json.loads(text_of(results[f"echo-cl-{i}"]))["args"] == {"i": i}
            assert results["hang"].is_error and "did not answer within 1 s" in text_of(results["hang"])
            assert results["late"].is_error and "did not answer" in text_of(results["late"])
            assert text_of(results["garbage"]) == "after garbage"
            assert text_of(results["bad_length"]) == "after bad length"
            assert text_of(results["notify"]) == "notified" and progress == [1]
            assert text_of(results["flood"]) == "flooded"
            assert len(text_of(results["big"])) == 10_000_000
            assert results["crash"].is_error and "exit code 3" in text_of(results["crash"])
            assert "crashing on purpose" in text_of(results["crash"])
            child = int(text_of(results["child"]))
            assert alive(child)
            # The late answer arrives after the timeout and is dropped (the server's log says so); the crashed
            # server restarts when used.
            nl_log = tmp_path / ".harnessgym" / "host" / "logs" / "nl.stderr.log"
            await wait_until(lambda: b"expired request id" in nl_log.read_bytes(), 10, "the late answer's drop")
            again = await client.call_tool("cl__echo", {"after": "crash"})
            assert json.loads(text_of(again))["args"] == {"after": "crash"}
            pid = await client.call_tool("nl__pid", {})
            assert int(text_of(pid)) > 0
    assert not alive(child), "a server's child outlived the host"
    assert any(isinstance(n, types.ServerNotification) or "message" in repr(n) for n in notes)
    log = (tmp_path / ".harnessgym/host/logs/cl.stderr.log").read_bytes()
    assert len(log) <= 2 * 1024 * 1024 and b"eeee" in log
    lines = (tmp_path / ".harnessgym/mcp_calls.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 22
    statuses = {(r["server"], r["tool_name"], r["status"]) for r in records}
    assert {("cl", "hang", "timeout"), ("nl", "sleep", "timeout"), ("nl", "sleep", "completed")} <= statuses
    assert {("cl", "crash", "error"), ("cl", "big", "completed")} <= statuses
    big = next(r for r in records if r["tool_name"] == "big")
    assert big["result_json_bytes"] > 10_000_000 and big["argument_keys"] == ["size"]
    assert {(r["run_id"], r["iteration"], r["phase"]) for r in records} == {("r1", 2, "attempt")}
    assert set(records[0]) >= {
        "created_at",
        "server",
        "request_id",
        "method",
        "tool_name",
        "duration_ms",
        "status",
        "error_message",
        "argument_keys",
        "argument_json_bytes",
        "result_json_bytes",
    }
    summary = summarize_calls(tmp_path, run_id="r1")
    assert (summary.count, summary.by_iteration, summary.by_status["timeout"]) == (22, {2: 22}, 2)
    assert summary.by_tool["nl__echo"] == 5 and summarize_calls(tmp_path, run_id="other").count == 0


async def test_a_new_active_server_appears_live_with_list_changed(tmp_path: Path) -> None:
    _activate(tmp_path, make_manifest(tmp_path, "one", framing="newline"))
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification) or "list_changed" in repr(message):
            changed.set()

    with anyio.fail_after(30):
        async with host_client(tmp_path, message_handler=on_message) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert "one__echo" in names and "two__echo" not in names
            _activate(
                tmp_path,
                make_manifest(tmp_path, "one", framing="newline"),
                make_manifest(tmp_path, "two", "--framing", "content-length"),
            )
            await changed.wait()
            names = {t.name for t in (await client.list_tools()).tools}
            assert "two__echo" in names
            changed = anyio.Event()
            await client.call_tool("two__add_tool", {"name": "fresh"})
            await changed.wait()
            names = {t.name for t in (await client.list_tools()).tools}
            assert "two__fresh" in names
            assert json.loads(text_of(await client.call_tool("two__fresh", {})))["tool"] == "fresh"


async def test_colliding_and_long_names_stay_within_client_limits(tmp_path: Path) -> None:
    long_server = "a_rather_long_server_name_for_testing_more"
    _activate(
        tmp_path,
        make_manifest(tmp_path, long_server, framing="newline"),
        make_manifest(tmp_path, "a", "--tools", "b__c", framing="newline"),
        make_manifest(tmp_path, "a__b", "--tools", "c", framing="newline"),
    )
    with anyio.fail_after(30):
        async with host_client(tmp_path) as client:
            tools = (await client.list_tools()).tools
            names = [t.name for t in tools]
            assert len(names) == len(set(names)) and all(len(n) <= 47 for n in names)
            long_echo = next(t for t in tools if t.title == "echo" and long_server in json.dumps(t.meta))
            reply = json.loads(text_of(await client.call_tool(long_echo.name, {})))
            assert (reply["tool"], long_echo.name[-7:-6]) == ("echo", "_")
            collided = [t for t in tools if t.name.startswith("a__b__c_") and len(t.name) == len("a__b__c_123456")]
            assert len(collided) == 2 and "a__b__c" not in names
            assert {tool.meta["harnessgym/server"] for tool in collided if tool.meta} == {"a", "a__b"}
            for tool in collided:
                reply = json.loads(text_of(await client.call_tool(tool.name, {})))
                assert tool.meta is not None and reply["tool"] == tool.meta["harnessgym/tool"]


async def test_mcp_call_reaches_the_running_host_without_restarting_servers(tmp_path: Path) -> None:
    _activate(tmp_path, make_manifest(tmp_path, "nl", framing="newline"))
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "HARNESSGYM_STATE_DIR")}
    with anyio.fail_after(30):
        async with host_client(tmp_path, "--run-id", "r9") as client:
            pid = text_of(await client.call_tool("nl__pid", {}))
            argv = [
                sys.executable,
                "-m",
                "harnessgym",
                "mcp",
                "call",
                "--workspace",
                str(tmp_path),
                "--server",
                "nl",
                "--tool",
                "pid",
                "--no-start",
            ]
            result = await run_process(argv, cwd=ROOT, env=env, timeout=20)
            assert result.returncode == 0, result.stderr_tail
            assert json.loads(result.stdout_tail) == int(pid)
            argv[-5:] = ["--server", "nl", "--tool", "echo", "--arguments", '{"k": 1}', "--no-start"]
            result = await run_process(argv, cwd=ROOT, env=env, timeout=20)
            assert json.loads(result.stdout_tail)["args"] == {"k": 1}
            listed = await run_process([*argv[:7], "--list-tools", "--no-start"], cwd=ROOT, env=env, timeout=20)
            assert any(row["name"] == "nl__echo" for row in json.loads(listed.stdout_tail))
    assert summarize_calls(tmp_path, run_id="r9").count == 3


async def test_a_real_sdk_server_through_the_host_relays_progress_and_cancellation(tmp_path: Path) -> None:
    _activate(tmp_path, make_manifest(tmp_path, "sdk", script=SDK_SERVER))
    seen: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(value)

    with anyio.fail_after(30):
        async with host_client(tmp_path) as client:
            assert text_of(await client.call_tool("sdk__echo", {"text": "héllo"})) == "héllo"
            assert (
                text_of(await client.call_tool("sdk__slow", {"seconds": 0.05}, progress_callback=on_progress)) == "done"
            )
            assert seen == [0.5]
            with pytest.raises(Exception):  # noqa: B017 - the SDK's own timeout error
                await client.call_tool("sdk__slow", {"seconds": 5}, read_timeout_seconds=0.5)
            assert text_of(await client.call_tool("sdk__echo", {"text": "after"})) == "after"
    lines = (tmp_path / ".harnessgym/mcp_calls.jsonl").read_text().splitlines()
    statuses = [json.loads(line)["status"] for line in lines]
    assert statuses == ["completed", "completed", "error", "completed"]
