"""The one process helper: every child in its own group, output streamed, the whole tree killed."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import anyio
import pytest
from support.waiting import wait_until

from mcp_host._supervise.procs import descendants, kill_tree, run_process, spawn
from mcp_host._supervise.proctable import alive

pytestmark = pytest.mark.anyio

PY = sys.executable


def _gone(pid: int) -> bool:
    return not alive(pid)


async def test_a_timeout_kills_the_child_and_the_grandchild_it_started(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    result = await run_process([PY, "-c", code], timeout=1.0, stdout_path=tmp_path / "out.txt")

    assert result.timed_out and result.returncode is not None and result.returncode < 0
    assert (tmp_path / "out.txt").read_text() == "started\n"
    assert _gone(int(pidfile.read_text()))


async def test_a_grandchild_that_escaped_with_setsid_is_killed_through_the_environment_tag(tmp_path: Path) -> None:
    pidfile = tmp_path / "escapee.pid"
    code = (
        "import subprocess, sys\n"
        # start_new_session: its own session and process group (a second os.setsid() in it would fail with
        # EPERM, since it already leads its session, and end it before it could be swept).
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
    )
    result = await run_process([PY, "-c", code], timeout=10)

    assert result.returncode == 0 and not result.timed_out
    escapee = int(pidfile.read_text())
    assert escapee in result.swept
    assert _gone(escapee)


async def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)"
    result = await run_process([PY, "-c", code], timeout=0.5, grace=0.3)

    # SIGTERM was ignored, so the end came from the SIGKILL that follows the grace period.
    assert result.timed_out and result.returncode == -9


async def test_a_missing_program_is_an_error_value_not_an_exception(tmp_path: Path) -> None:
    result = await run_process([str(tmp_path / "no-such-agent")], timeout=5)

    assert result.returncode is None and not result.ok
    assert result.error is not None and "no-such-agent" in result.error


async def test_an_argument_list_over_the_os_limit_says_to_pass_input_through_a_file() -> None:
    huge = "x" * (4 * 1024 * 1024)
    result = await run_process([PY, "-c", "pass", huge], timeout=5)

    assert result.returncode is None
    assert result.error is not None and "through a file" in result.error


async def test_stdin_is_the_given_file_or_dev_null_so_a_child_reading_it_never_hangs(tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("hello from a file")
    code = "import sys; print(len(sys.stdin.read()))"

    from_file = await run_process([PY, "-c", code], timeout=10, stdin_path=prompt)
    from_null = await run_process([PY, "-c", code], timeout=10)

    assert from_file.stdout_tail.strip() == "17"
    assert from_null.stdout_tail.strip() == "0"


async def test_output_reaches_the_file_and_the_line_callback_while_the_child_still_runs(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    marker = tmp_path / "go"
    code = (
        "import os, time\n"
        "print('first', flush=True)\n"
        f"deadline = time.time() + 20\n"
        f"while not os.path.exists({str(marker)!r}) and time.time() < deadline:\n"
        "    time.sleep(0.01)\n"
        "print('second', flush=True)\n"
    )
    lines: list[str] = []
    seen_first = anyio.Event()

    def on_line(line: str) -> None:
        lines.append(line)
        if line == "first":
            seen_first.set()

    async def release_after_first() -> None:
        await seen_first.wait()
        assert out.read_text() == "first\n"  # streamed, not buffered until exit
        marker.write_text("")

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(release_after_first)
            result = await run_process([PY, "-c", code], timeout=25, stdout_path=out, on_stdout_line=on_line)

    assert result.ok and lines == ["first", "second"]


async def test_cancelling_the_caller_kills_the_tree_before_the_cancellation_propagates(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_process, [PY, "-c", code])
            await wait_until(lambda: pidfile.exists() and pidfile.read_text(), 15, "the child to write its pid")
            tg.cancel_scope.cancel()

    assert _gone(int(pidfile.read_text()))


async def test_kill_tree_stops_a_long_lived_child_started_with_spawn() -> None:
    proc = await spawn([PY, "-c", "import time; time.sleep(60)"])
    try:
        assert proc.pid in descendants(os.getpid())
        await kill_tree(proc.pid, grace=0.5)
        with anyio.fail_after(5):
            await proc.wait()
    finally:
        await proc.aclose()
    assert proc.returncode is not None


async def test_a_line_handler_that_fails_is_logged_and_still_gets_the_lines_after(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out.txt"
    seen: list[str] = []

    def on_line(line: str) -> None:
        if line == "bad":
            raise ValueError("a handler bug")
        seen.append(line)

    code = "print('first'); print('bad'); print('last')"
    with caplog.at_level(logging.ERROR, logger="mcp_host._supervise.procs"), anyio.fail_after(20):
        result = await run_process([PY, "-c", code], timeout=15, stdout_path=out, on_stdout_line=on_line)

    assert result.ok and seen == ["first", "last"] and out.read_text() == "first\nbad\nlast\n"
    [record] = caplog.records
    assert "'bad'" in record.getMessage() and record.exc_info is not None and record.exc_info[0] is ValueError
