"""Wedged servers through the real host and the real SDK client: found by ping, killed, restarted; busy ones kept."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import anyio
import pytest
from hostile.helpers import host_client, make_manifest, text_of
from support.waiting import wait_until

from mcp_host import load_manifest, write_active_servers
from mcp_host._supervise.health import process_stopped

pytestmark = pytest.mark.anyio

FAST_PINGS = ("--ping-timeout", "1", "--idle-ping-after", "0.5")


def _activate(workspace: Path, directory: Path) -> None:
    write_active_servers(workspace, [load_manifest(directory, workspace)])


def _exists(pid: int) -> bool:
    """Whether ``pid`` is still a process at all (a stopped one counts; a zombie not yet reaped too)."""
    return Path(f"/proc/{pid}").exists()


async def _gone(pid: int) -> None:
    # The host's decision is visible from here only through /proc.
    await wait_until(lambda: not _exists(pid), 30, f"server process {pid} to end")


async def test_a_stopped_server_is_killed_and_the_next_call_restarts_it(tmp_path: Path) -> None:
    _activate(tmp_path, make_manifest(tmp_path, "toy", framing="newline"))
    with anyio.fail_after(40):
        async with host_client(tmp_path, *FAST_PINGS) as client:
            pid = int(text_of(await client.call_tool("toy__pid", {})))
            os.kill(pid, signal.SIGSTOP)
            try:
                with anyio.fail_after(10):  # far below the 60 s tool timeout
                    first = await client.call_tool("toy__echo", {"n": 1})
                if first.is_error:
                    assert text_of(first).startswith(
                        f"server 'toy' stopped answering pings (its process {pid} is stopped); "
                        "it was killed and is restarted on the next call"
                    )
                else:  # found stopped before the call arrived: the call restarted it
                    assert '"n": 1' in text_of(first)
                with anyio.fail_after(5):
                    await _gone(pid)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
            again = int(text_of(await client.call_tool("toy__pid", {})))
            assert again != pid and not process_stopped(again)
    log = (tmp_path / ".harnessgym/host/logs/toy.stderr.log").read_text()
    assert "stopped answering pings" in log


async def test_a_deadlocked_server_is_found_after_its_call_times_out_and_restarted(tmp_path: Path) -> None:
    _activate(tmp_path, make_manifest(tmp_path, "toy", framing="newline", timeouts={"tool_seconds": 2}))
    with anyio.fail_after(40):
        async with host_client(tmp_path, *FAST_PINGS) as client:
            pid = int(text_of(await client.call_tool("toy__pid", {})))
            stuck = await client.call_tool("toy__deadlock", {})
            # Alive and not stopped, so the call in flight may be a busy one: only its timeout ends it.
            assert stuck.is_error and "did not answer within 2 s" in text_of(stuck)
            with anyio.fail_after(10):
                await _gone(pid)
            after = await client.call_tool("toy__echo", {"n": 2})
            assert not after.is_error and '"n": 2' in text_of(after)
            assert int(text_of(await client.call_tool("toy__pid", {}))) != pid
    log = (tmp_path / ".harnessgym/host/logs/toy.stderr.log").read_text()
    assert "stopped answering pings (no answer to ping in 1 s)" in log


async def test_an_idle_server_that_stops_answering_is_restarted_before_the_next_call(tmp_path: Path) -> None:
    _activate(tmp_path, make_manifest(tmp_path, "toy", framing="newline"))
    with anyio.fail_after(40):
        async with host_client(tmp_path, *FAST_PINGS) as client:
            pid = int(text_of(await client.call_tool("toy__pid", {})))
            assert text_of(await client.call_tool("toy__deadlock", {"answer": True})) == "locking up"
            with anyio.fail_after(10):  # nothing in flight: the next idle ping finds it
                await _gone(pid)
            assert int(text_of(await client.call_tool("toy__pid", {}))) != pid
    log = (tmp_path / ".harnessgym/host/logs/toy.stderr.log").read_text()
    assert "server 'toy' stopped answering pings (no answer to ping in 1 s)" in log


async def test_a_busy_server_is_not_mistaken_for_a_hung_one(tmp_path: Path) -> None:
    _activate(tmp_path, make_manifest(tmp_path, "toy", framing="newline", timeouts={"tool_seconds": 10}))
    with anyio.fail_after(40):
        async with host_client(tmp_path, "--ping-timeout", "0.5", "--idle-ping-after", "0.2") as client:
            pid = text_of(await client.call_tool("toy__pid", {}))
            results: dict[str, str] = {}

            async def call(name: str, seconds: float) -> None:
                result = await client.call_tool(name, {"seconds": seconds})
                assert not result.is_error, text_of(result)
                results[name] = text_of(result)

            # A 2 s call on a worker thread (pings answered meanwhile), then a 2 s call that blocks the
            # server's only reader (no ping could be answered): neither is a wedge.
            await call("toy__sleep", 2)
            await call("toy__block", 2)
            assert results == {"toy__sleep": "slept 2", "toy__block": "blocked 2"}
            assert text_of(await client.call_tool("toy__pid", {})) == pid
    log = (tmp_path / ".harnessgym/host/logs/toy.stderr.log").read_text()
    assert "stopped answering" not in log


async def test_a_server_that_ignores_pings_is_probed_with_tools_list_instead(tmp_path: Path) -> None:
    _activate(tmp_path, make_manifest(tmp_path, "toy", "--ignore-ping", framing="newline"))
    with anyio.fail_after(40):
        async with host_client(tmp_path, *FAST_PINGS) as client:
            pid = text_of(await client.call_tool("toy__pid", {}))
            with anyio.move_on_after(3):  # several idle-ping periods
                await _gone(int(pid))
            assert text_of(await client.call_tool("toy__pid", {})) == pid
            assert text_of(await client.call_tool("toy__deadlock", {"answer": True})) == "locking up"
            with anyio.fail_after(10):  # tools/list goes unanswered now
                await _gone(int(pid))
            assert text_of(await client.call_tool("toy__pid", {})) != pid
    log = (tmp_path / ".harnessgym/host/logs/toy.stderr.log").read_text()
    assert "does not answer ping but answers tools/list" in log
    assert "stopped answering pings (no answer to tools/list in 1 s)" in log
