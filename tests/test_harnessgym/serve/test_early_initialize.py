"""``harnessgym serve`` answers ``initialize`` before importing the SDK, with the answer the SDK server gave."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

pytestmark = pytest.mark.anyio


async def test_the_second_start_answers_initialize_from_the_kept_answer_and_serves_as_the_first(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    params = StdioServerParameters(
        command=sys.executable, args=["-I", "-m", "harnessgym", "serve", "--allow-root", str(tmp_path),
                                      "--state-dir", str(state)],
        cwd=str(tmp_path), env=dict(os.environ),
    )  # fmt: skip
    seen = []
    with anyio.fail_after(120):
        for _ in range(2):
            async with Client(params, mode="legacy", read_timeout_seconds=60) as client:
                seen.append((client.server_info, sorted(t.name for t in (await client.list_tools()).tools)))
    (kept,) = state.glob("serve-initialize-*.json")
    answers = json.loads(kept.read_text())
    assert answers and all(a["serverInfo"]["name"] == "harnessgym" for a in answers.values())
    assert seen[0] == seen[1] and "start_run" in seen[1][1]  # the early answer changed nothing the client sees
