"""Helpers for tests that drive real servers and a real host."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

HOSTILE = Path(__file__).resolve().parent
TOY = str(HOSTILE / "toy_server.py")
SDK_SERVER = str(HOSTILE / "sdk_server.py")
ROOT = HOSTILE.parent.parent


def make_manifest(workspace: Path, name: str, *args: str, script: str = TOY, **extra: Any) -> Path:
    """Write ``.harnessgym/mcp/<name>/mcp.json`` running ``script`` with ``args``; returns the directory."""
    directory = workspace / ".harnessgym" / "mcp" / name
    directory.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"name": name, "command": "python3", "args": [script, *args], "self_test": True}
    manifest.update(extra)
    (directory / "mcp.json").write_text(json.dumps(manifest))
    return directory


@asynccontextmanager
async def host_client(
    workspace: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    message_handler: Callable[[Any], Awaitable[None]] | None = None,
    timeout: float = 20.0,
) -> AsyncIterator[Client]:
    """The real SDK client, connected to ``python -m harnessgym host`` over stdio."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "harnessgym", "host", "--workspace", str(workspace), *extra],
        cwd=str(ROOT),
        # The SDK gives a child only an allow-list: the host must find the tests' state directory.
        env={**(env or {}), "HARNESSGYM_STATE_DIR": os.environ["HARNESSGYM_STATE_DIR"]},
    )
    kwargs: dict[str, Any] = {"read_timeout_seconds": timeout}
    if message_handler is not None:
        kwargs["message_handler"] = message_handler
    async with Client(params, **kwargs) as client:
        yield client


def text_of(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)
