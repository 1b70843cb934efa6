"""`harnessgym mcp call` with no host running starts a daemon that keeps servers and exits when idle."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import sys
from pathlib import Path

import anyio
import pytest
from hostile.helpers import ROOT, make_manifest
from support.loop import marked_processes

from mcp_host import load_manifest, write_active_servers
from mcp_host._paths import socket_path
from mcp_host._supervise.procs import kill_tree, run_process

pytestmark = pytest.mark.anyio


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if text.encode() in fh.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


async def test_mcp_call_starts_an_idle_exiting_daemon_that_keeps_server_state(tmp_path: Path) -> None:
    write_active_servers(tmp_path, [load_manifest(make_manifest(tmp_path, "nl", framing="newline"), tmp_path)])
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "HARNESSGYM_STATE_DIR")}
    env["HARNESSGYM_RUN_ID"] = "daemon-run"
    call = shlex.join(
        [
            sys.executable,
            "-m",
            "harnessgym",
            "mcp",
            "call",
            "--workspace",
            str(tmp_path),
            "--server",
            "nl",
            "--idle-timeout",
            "1",
        ]
    )
    sock = shlex.quote(str(socket_path(tmp_path)))
    # One shell, as in an agent session: the daemon outlives each `mcp call` and exits when idle.
    wait = f"for i in $(seq 50); do [ -e {sock} ] || break; sleep 0.1; done"
    script = f"{call} --tool pid; {call} --tool pid; {call} --tool nope; echo rc=$?; {wait}; [ -e {sock} ] || echo gone"
    with anyio.fail_after(40):
        result = await run_process(["sh", "-c", script], cwd=ROOT, env=env, timeout=35)
    out = result.stdout_tail.split("\n")
    assert result.returncode == 0, result.stderr_tail
    first, second = json.loads(out[0]), json.loads(out[1])
    assert first == second  # the same server process answered both calls
    assert "no tool 'nope'" in result.stdout_tail and "rc=1" in result.stdout_tail
    assert out[-2] == "gone" and not _processes_mentioning(str(tmp_path))
    lines = (tmp_path / ".harnessgym" / "mcp_calls.jsonl").read_text().splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == ["daemon-run", "daemon-run"]


async def test_mcp_call_without_a_host_and_no_start_fails_clearly(tmp_path: Path) -> None:
    argv = [
        sys.executable,
        "-m",
        "harnessgym",
        "mcp",
        "call",
        "--workspace",
        str(tmp_path),
        "--server",
        "x",
        "--tool",
        "y",
        "--no-start",
    ]
    with anyio.fail_after(20):
        result = await run_process(argv, cwd=ROOT, timeout=15)
    assert result.returncode == 1 and "no harnessgym host is running" in result.stderr_tail


async def test_the_calls_line_is_on_disk_before_the_answer_reaches_mcp_call(tmp_path: Path) -> None:
    # `mcp call` exits on the answer, and whoever ran it may kill the on-demand daemon at once (run_process
    # sweeps what a finished command leaves). SIGKILL leaves no chance to flush, so the line must already be
    # written when the answer leaves.
    from mcp_host._serve.callclient import call_tool

    write_active_servers(tmp_path, [load_manifest(make_manifest(tmp_path, "nl", framing="newline"), tmp_path)])
    with anyio.fail_after(60):
        await call_tool(tmp_path, "nl", "pid", {}, idle_timeout=30)  # starts the daemon
        daemons = [p for p in _processes_mentioning(str(tmp_path)) if p != os.getpid()]
        assert daemons
        for _ in range(3):
            reply = await call_tool(tmp_path, "nl", "pid", {}, start=False)
            assert "result" in reply
            await call_tool(tmp_path, "nl", "echo", {"x": 1}, start=False)
        for pid in daemons:  # the instant the last answer arrived: no batch interval has passed
            os.kill(pid, signal.SIGKILL)
        for pid in daemons:  # started from this process, so it is ours to reap
            with contextlib.suppress(ChildProcessError):
                await anyio.to_thread.run_sync(os.waitpid, pid, 0)
        for pid in marked_processes(tmp_path):  # the daemon's server, orphaned by the SIGKILL
            await kill_tree(pid, grace=1.0)
    lines = (tmp_path / ".harnessgym" / "mcp_calls.jsonl").read_text().splitlines()
    assert [json.loads(line)["tool_name"] for line in lines] == ["pid"] + ["pid", "echo"] * 3


async def test_a_call_to_a_running_host_is_answered_before_click_or_pydantic_load(tmp_path: Path) -> None:
    """The fast path: the second call finds the daemon the first one started, and answers from the standard
    library alone, with the phase's run tag in the telemetry and the same output as the full path."""
    write_active_servers(tmp_path, [load_manifest(make_manifest(tmp_path, "nl", framing="newline"), tmp_path)])
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "HARNESSGYM_STATE_DIR")}
    env.update({"HARNESSGYM_RUN_ID": "quick-run", "HARNESSGYM_ITERATION": "2", "HARNESSGYM_PHASE": "attempt"})
    call = shlex.join([sys.executable, "-X", "importtime", "-m", "harnessgym", "mcp", "call", "--workspace",
                       str(tmp_path), "--server", "nl", "--tool", "echo", "--arguments", '{"text": "hi"}',
                       "--idle-timeout", "1"])  # fmt: skip
    out = {name: tmp_path / name for name in ("full.out", "full.err", "quick.out", "quick.err")}
    # One shell, as in an agent session: the first call starts the daemon, the second finds it running.
    script = f"{call} >{out['full.out']} 2>{out['full.err']} && {call} >{out['quick.out']} 2>{out['quick.err']}"
    with anyio.fail_after(60):
        result = await run_process(["sh", "-c", script], cwd=ROOT, env=env, timeout=50)
    assert result.returncode == 0, out["full.err"].read_text()[-2000:] + out["quick.err"].read_text()[-2000:]
    assert json.loads(out["quick.out"].read_text()) == json.loads(out["full.out"].read_text())

    def loaded(path: Path) -> set[str]:
        return {line.split("|")[-1].strip() for line in path.read_text().splitlines() if "|" in line}

    assert "click" in loaded(out["full.err"])
    assert not {"click", "pydantic", "anyio", "mcp"} & loaded(out["quick.err"])
    lines = [json.loads(line) for line in (tmp_path / ".harnessgym" / "mcp_calls.jsonl").read_text().splitlines()]
    assert [(r["run_id"], r["iteration"], r["phase"]) for r in lines] == [("quick-run", 2, "attempt")] * 2


async def test_a_quick_call_names_its_tool_by_server_and_tool_and_an_unknown_pair_calls_nothing(
    tmp_path: Path,
) -> None:
    """The fast path sends the handshake and the call at once, naming the tool by (server, tool): a tool whose
    host name is not ``server__tool`` (here one the host had to rename) is still found, the pair never reaches
    the server, and a pair the host does not serve is refused without a call (the full path then explains)."""
    from mcp_host._serve.callclient import call_tool
    from mcp_host._serve.quickcall import quick_call

    write_active_servers(tmp_path, [load_manifest(make_manifest(tmp_path, "nl", framing="newline"), tmp_path)])
    calls = tmp_path / ".harnessgym" / "mcp_calls.jsonl"
    try:
        with anyio.fail_after(60):
            await call_tool(tmp_path, "nl", "add_tool", {"name": "odd.name"}, idle_timeout=30)  # starts the daemon
            reply = None
            while reply is None:  # the host lists the server's tools again after its list_changed
                reply = await anyio.to_thread.run_sync(lambda: quick_call(tmp_path, "nl", "odd.name", {"x": 1}))
                await anyio.sleep(0.05)
            # the toy server's own name, the tool's own name, and no "meta": the pair was not passed on
            assert json.loads(reply["result"]["content"][0]["text"]) == {
                "server": "toy", "tool": "odd.name", "args": {"x": 1}}  # fmt: skip
            recorded = [json.loads(line) for line in calls.read_text().splitlines()]
            assert recorded[-1]["tool_name"] == "odd.name" and recorded[-1]["status"] == "completed"
            before = len(recorded)
            assert await anyio.to_thread.run_sync(lambda: quick_call(tmp_path, "nl", "missing", {})) is None
            assert await anyio.to_thread.run_sync(lambda: quick_call(tmp_path, "elsewhere", "echo", {})) is None
            assert len(calls.read_text().splitlines()) == before
    finally:
        for pid in [p for p in _processes_mentioning(str(tmp_path)) if p != os.getpid()]:
            await kill_tree(pid, grace=1.0)
            with contextlib.suppress(ChildProcessError):
                await anyio.to_thread.run_sync(os.waitpid, pid, 0)
        for pid in marked_processes(tmp_path):
            await kill_tree(pid, grace=1.0)
