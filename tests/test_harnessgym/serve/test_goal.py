"""``start_run`` and ``start_compare`` take ``goal`` and ``goal_token_budget``: bad values are refused in words a
model can act on before anything starts; a goal run records how its goal ended."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server import MCPServer
from support.serve_client import EXAMPLE, VERIFY, call, refused

from harnessgym.serve import ServeSettings, build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(EXAMPLE, root / "task")
    return root


@pytest.fixture
async def client(root: Path, tmp_path: Path) -> AsyncIterator[Client]:
    server: MCPServer[Any] = build_server(ServeSettings(allow_roots=(root,), state_dir=tmp_path / "state"))
    async with Client(server, read_timeout_seconds=60) as c:
        yield c


async def test_bad_goals_are_refused_before_anything_starts(client: Client, root: Path) -> None:
    text = await refused(client, "start_run", workspace="task", task_text="x", goal="  ")
    assert "the goal is empty" in text
    text = await refused(client, "start_run", workspace="task", task_text="x", goal="g", goal_token_budget=0)
    assert "must be a positive number of tokens" in text
    text = await refused(client, "start_compare", task_text="x", workspace_template="task", output_dir="out",
                         verify_command=VERIFY, goal="")  # fmt: skip
    assert "the goal is empty" in text
    assert not (root / "task" / ".harnessgym" / "runs").exists() and not (root / "out").exists()


async def test_a_goal_run_records_its_goal(client: Client, root: Path) -> None:
    started = await call(client, "start_run", workspace="task", task_file="task/task.md", verify_command=VERIFY,
                         runner="fake", iterations=1, goal="the verifier passes", goal_token_budget=5000)  # fmt: skip
    with anyio.fail_after(90):
        while True:  # get_run returns on progress; wait for the run's end
            view = await call(client, "get_run", run_id=started["run_id"], wait_seconds=30)
            if view["run"]["status"] != "running":
                break
    path = root / "task" / ".harnessgym" / "runs" / started["run_id"] / "iterations" / "1" / "iteration.json"
    goal = json.loads(path.read_text())["goal"]
    assert (goal["condition"], goal["outcome"], goal["turns"], goal["tokens_used"]) == (
        "the verifier passes", "budget_exhausted", 5, 5000)  # fmt: skip
