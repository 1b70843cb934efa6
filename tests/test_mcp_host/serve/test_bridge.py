"""`harnessgym mcp bridge`: one Content-Length server behind newline JSON, recorded."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest
from hostile.helpers import ROOT, TOY, text_of
from mcp import Client, StdioServerParameters

from mcp_host import summarize_calls

pytestmark = pytest.mark.anyio


async def test_the_bridge_translates_framing_and_records_calls(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "harnessgym",
            "mcp",
            "bridge",
            "--server-name",
            "plan",
            "--cwd",
            str(tmp_path),
            "--workspace",
            str(tmp_path),
            "--response-timeout",
            "1",
            "--",
            "python3",
            TOY,
            "--framing",
            "content-length",
        ],
        cwd=str(ROOT),
    )
    with anyio.fail_after(30):
        async with Client(params, read_timeout_seconds=15) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"echo", "big", "hang"} <= names
            assert json.loads(text_of(await client.call_tool("echo", {"q": 1})))["args"] == {"q": 1}
            hung = await client.call_tool("hang", {})
            assert hung.is_error and "did not answer within 1 s" in text_of(hung)
    summary = summarize_calls(tmp_path)
    assert (summary.count, summary.by_status, summary.by_server) == (2, {"completed": 1, "timeout": 1}, {"plan": 2})
