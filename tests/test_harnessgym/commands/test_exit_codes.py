"""Exit codes say what happened (issue 10, item 5): a comparison with no valid trial fails, a signal that lands
before the run's handler still gives 128 + signum and a resume hint, and a full disk is one line naming the
file and the space, never a traceback. (SIGTERM during a run exiting 143 is in test_resume.py.)"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import click
import pytest
from support.loop import EXAMPLE, VERIFY, example_workspace, harnessgym_argv, script, step

from mcp_host._supervise.procs import run_process, spawn

pytestmark = pytest.mark.anyio


async def test_compare_exits_non_zero_when_no_trial_is_valid(tmp_path: Path) -> None:
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    argv = harnessgym_argv(
        "compare", "--task", str(EXAMPLE / "task.md"), "--workspace-template", str(EXAMPLE),
        "--output-dir", str(tmp_path / "cmp"), "--trials", "1", "--verify-command", VERIFY,
        "--runner", "claude", "--claude-bin", str(tmp_path / "no-such-claude"), "--no-require-active-harness",
    )  # fmt: skip
    with anyio.fail_after(120):
        proc = await run_process(argv, timeout=110, stdout_path=out, stderr_path=err, cwd=tmp_path,
                                 env={**os.environ, "TMPDIR": str(tmp_path)})  # fmt: skip
    assert proc.returncode == 1, err.read_text()
    assert "no valid comparison" in err.read_text() and "Traceback" not in err.read_text()
    assert (tmp_path / "cmp" / "compare_report.json").is_file()  # the report is still written


async def test_a_sigint_before_the_runs_handler_still_exits_130_with_one_line(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path)
    task = tmp_path / "task.fifo"
    os.mkfifo(task)
    log = tmp_path / "out.txt"
    with open(log, "wb") as sink:
        proc = await spawn(harnessgym_argv("run", "--task", str(task), "--workspace", str(ws), "--runner", "fake"),
                           stdout=sink, stderr=sink)  # fmt: skip
    writer = None
    try:
        with anyio.fail_after(60):
            while writer is None:  # the command is reading the task, long before the run's own handler
                try:
                    writer = os.open(task, os.O_WRONLY | os.O_NONBLOCK)
                except OSError as exc:
                    assert exc.errno == errno.ENXIO  # no reader yet
                    await anyio.sleep(0.05)
            os.kill(proc.pid, signal.SIGINT)
            await proc.wait()
    finally:
        if writer is not None:
            os.close(writer)
        await proc.aclose()
    text = log.read_text()
    assert proc.returncode == 130, text
    assert "SIGINT: stopped" in text and "nothing was recorded" in text and "Traceback" not in text


def test_an_early_signal_after_the_run_started_gives_the_resume_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harnessgym.commands._outcome import EarlySignal
    from harnessgym.commands.run import _fail

    run_dir = tmp_path / ".harnessgym" / "runs" / "r1"
    run_dir.mkdir(parents=True)
    (run_dir / "journal.jsonl").write_text("")
    with pytest.raises(SystemExit) as stopped:
        _fail(BaseExceptionGroup("wrapped", [EarlySignal(signal.SIGTERM)]), tmp_path, "r1")
    assert stopped.value.code == 143
    assert f"Resume with: harnessgym run --resume r1 --workspace {tmp_path}" in capsys.readouterr().err
    with pytest.raises(click.ClickException) as failed:
        _fail(ExceptionGroup("g", [ExceptionGroup("h", [OSError(errno.ENOSPC, "No space left", "/x/y")])]),
              tmp_path, "r1")  # fmt: skip
    assert "no space left on the disk to write /x/y" in failed.value.message


@contextlib.asynccontextmanager
async def small_disk(where: Path, size: str = "2m") -> AsyncIterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (the tests run as root, in CI too), unmounted afterwards."""
    where.mkdir()
    mounted = await run_process(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], timeout=30)
    assert mounted.ok, f"mounting a small tmpfs needs root: {mounted.stderr_tail}"
    try:
        yield where
    finally:
        await run_process(["umount", "-l", str(where)], timeout=30)


async def test_a_full_disk_is_one_line_naming_the_file_and_the_space(tmp_path: Path) -> None:
    async with small_disk(tmp_path / "disk") as disk:
        ws = example_workspace(disk)
        fill = {"do": "write", "path": "fill.bin", "text": "x" * (3 << 20)}  # more than the disk holds
        fake = script(tmp_path, step("attempt", fill))
        out, err = tmp_path / "out.txt", tmp_path / "err.txt"
        argv = harnessgym_argv("run", "--task", str(ws / "task.md"), "--workspace", str(ws), "--iterations", "2",
                               "--fake-script", str(fake), "--verify-command", VERIFY)  # fmt: skip
        with anyio.fail_after(120):
            proc = await run_process(argv, timeout=110, stdout_path=out, stderr_path=err, cwd=tmp_path,
                                     env={**os.environ, "TMPDIR": str(tmp_path)})  # fmt: skip
        text = err.read_text()
        assert proc.returncode == 1, text
        assert "Traceback" not in text and "ExceptionGroup" not in text, text
        errors = [line for line in text.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, text
        assert "no space left on the disk to write " + str(ws) in errors[0] and "free there" in errors[0]
