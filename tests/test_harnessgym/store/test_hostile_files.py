"""Files in shared or agent-writable places: the host socket's directory and the telemetry file."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from hostile.helpers import host_client, make_manifest, text_of

from mcp_host import HostUnavailableError, call_tool, load_manifest, summarize_calls, write_active_servers
from mcp_host._paths import socket_path
from mcp_host._serve.telemetry import TelemetryWriter

pytestmark = pytest.mark.anyio

NOBODY = 65534


def _host_env(run_dir: Path) -> dict[str, str]:
    return {"XDG_RUNTIME_DIR": str(run_dir), "PYTHONPATH": os.pathsep.join(sys.path)}


@pytest.fixture
def run_dir() -> Iterator[Path]:
    """A short ``XDG_RUNTIME_DIR`` (a socket path holds 108 bytes at most)."""
    path = Path(tempfile.mkdtemp(prefix="hg-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_the_socket_directory_is_made_private_and_a_foreign_one_is_refused(
    tmp_path: Path, run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    write_active_servers(ws, [load_manifest(make_manifest(ws, "toy"), ws)])
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run_dir))
    sock = socket_path(ws)
    assert sock.is_relative_to(run_dir)
    sock.parent.mkdir(parents=True)
    os.chmod(sock.parent, 0o777)  # created wide open first, as by a careless umask or another user

    with anyio.fail_after(30):
        async with host_client(ws, env=_host_env(run_dir), timeout=10) as client:
            assert text_of(await client.call_tool("toy__echo", {"x": 1}))
            assert stat.S_IMODE(os.lstat(sock.parent).st_mode) == 0o700
            assert sock.exists()

    if os.getuid() != 0:
        return  # handing the directory to another user needs root
    for leftover in sock.parent.iterdir():
        leftover.unlink()
    os.chown(sock.parent, NOBODY, NOBODY)  # another local user got there first
    with anyio.fail_after(30):
        async with host_client(ws, env=_host_env(run_dir), timeout=10) as client:
            assert text_of(await client.call_tool("toy__echo", {"x": 2}))  # stdio still serves
            assert not sock.exists()  # but nobody else's directory gets our socket
        with pytest.raises(HostUnavailableError, match="belongs to uid"):
            await call_tool(ws, "toy", "echo", {}, start=False, timeout=1)


async def test_a_planted_symlink_or_fifo_at_the_telemetry_path_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    for planted in ("symlink", "fifo"):
        ws = tmp_path / planted
        path = ws / ".harnessgym" / "mcp_calls.jsonl"
        path.parent.mkdir(parents=True)
        if planted == "symlink":
            path.symlink_to(outside)
        else:
            os.mkfifo(path)
            assert summarize_calls(ws).count == 0  # read without waiting for a writer
        writer = TelemetryWriter(path, interval=0.01)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                await tg.start(writer.run)
                writer.record(
                    {
                        "created_at": "t",
                        "server": "s",
                        "method": "tools/call",
                        "tool_name": "t",
                        "status": "completed",
                        "run_id": "r",
                    }
                )
                writer.close()
        assert path.is_file() and not path.is_symlink()
        assert json.loads(path.read_text())["server"] == "s"
        assert summarize_calls(ws, run_id="r").count == 1
    assert outside.read_text() == "precious\n"


def test_the_call_summary_skips_an_endless_line_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / ".harnessgym" / "mcp_calls.jsonl"
    path.parent.mkdir(parents=True)
    good = json.dumps(
        {
            "created_at": "t",
            "server": "s",
            "method": "tools/call",
            "tool_name": "t",
            "status": "completed",
            "run_id": "r",
        }
    )
    with open(path, "w") as fh:
        fh.write(good + "\n" + "x" * (8 << 20) + "\n" + good + "\n" + "y" * (6 << 20))

    tracemalloc.start()
    try:
        assert summarize_calls(tmp_path, run_id="r").count == 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20
