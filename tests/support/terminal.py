"""Running a command on a pseudo-terminal, as a person at a terminal would (rich then draws, click sees a TTY)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import termios
from collections.abc import Mapping, Sequence
from pathlib import Path

import anyio

from mcp_host import kill_tree, spawn


async def run_in_terminal(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None,
                          columns: int = 160, timeout: float = 120) -> tuple[int | None, str]:  # fmt: skip
    """Run ``argv`` with a terminal of ``columns`` as its stdin, stdout and stderr; its exit code and output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    base = {k: v for k, v in (os.environ if env is None else env).items() if k not in ("NO_COLOR", "COLUMNS", "CI")}
    proc = await spawn(argv, cwd=cwd, env={**base, "TERM": "xterm-256color"}, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    chunks: list[bytes] = []
    drained = anyio.Event()

    async def drain() -> None:
        try:
            while True:
                try:
                    data = await anyio.to_thread.run_sync(os.read, master, 65536, abandon_on_cancel=True)
                except OSError:  # EIO: every holder of the terminal is gone
                    return
                if not data:
                    return
                chunks.append(data)
        finally:
            drained.set()

    try:
        with anyio.fail_after(timeout):
            async with anyio.create_task_group() as tg:
                tg.start_soon(drain)
                code = await proc.wait()
                with anyio.move_on_after(10):  # a straggler still holding the terminal must not hold the test
                    await drained.wait()
                tg.cancel_scope.cancel()
    finally:
        if proc.returncode is None:
            await kill_tree(proc.pid, grace=1.0)
        os.close(master)
    return code, b"".join(chunks).decode(errors="replace")
