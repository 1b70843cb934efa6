"""Start ``harnessgym serve --transport http`` as a real child process and hand back its URL.

The server picks a free port (``--port 0``) and announces the bound URL on stderr; the child is killed with
its whole tree when the block ends, whatever happened inside.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from anyio.streams.text import TextReceiveStream

from mcp_host._supervise.procs import DEVNULL, kill_tree, spawn

__all__ = ["serve_http"]

_START_SECONDS = 30.0
_MARK = "listening on "


@asynccontextmanager
async def serve_http(
    tmp: Path, *extra: str, host: str = "127.0.0.1", env: dict[str, str] | None = None, roots: Sequence[Path] = ()
) -> AsyncIterator[str]:
    """Yield the ``/mcp`` URL of a freshly started server; ``extra`` are more ``serve`` options."""
    argv = [sys.executable, "-m", "harnessgym", "serve", "--transport", "http", "--host", host, "--port", "0"]
    for root in roots or (tmp,):
        argv += ["--allow-root", str(root)]
    argv += ["--state-dir", str(tmp / "state"), *extra]
    proc = await spawn(argv, cwd=tmp, env=env, stdin=DEVNULL, stdout=DEVNULL)
    assert proc.stderr is not None
    found = anyio.Event()
    url = ""
    lines: list[str] = []

    async def drain() -> None:
        nonlocal url
        buffer = ""
        async for chunk in TextReceiveStream(proc.stderr):  # type: ignore[arg-type]
            buffer += chunk
            *complete, buffer = buffer.split("\n")
            for line in complete:
                lines.append(line)
                if _MARK in line and not found.is_set():
                    url = line.split(_MARK, 1)[1].strip()
                    found.set()
        found.set()  # the server exited before announcing a URL

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(drain)
            try:
                with anyio.fail_after(_START_SECONDS):
                    await found.wait()
            except TimeoutError:
                url = ""
            if not url:
                raise AssertionError("harnessgym serve did not announce its URL:\n" + "\n".join(lines))
            yield url
            tg.cancel_scope.cancel()
    finally:
        await kill_tree(proc.pid)
        with anyio.CancelScope(shield=True):
            await proc.aclose()
