"""Helpers for the loop tests (no tests here): example workspaces, fake-agent scripts, bounded runs."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio

from harnessgym.config import RunConfig
from harnessgym.jobs.orphans import WORKSPACE_ENV
from harnessgym.records import IterationRecord, RunSummary
from mcp_host._supervise.proctable import alive as alive  # re-exported for the loop tests
from mcp_host._supervise.proctable import scan_environ
from runners._options import RunnerOptions
from support.waiting import wait_until as wait_until  # re-exported for the loop tests

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "numerical_debug_task"
VERIFY = "python verifier.py"
FIX = {
    "do": "replace",
    "path": "numerics.py",
    "old": "    return math.log(sum(math.exp(x) for x in xs))",
    "new": "    m = max(xs)\n    return m + math.log(sum(math.exp(x - m) for x in xs))",
}
"""A fake-agent action that fixes the example task's ``numerics.py``."""


def example_workspace(tmp_path: Path, name: str = "ws") -> Path:
    ws = tmp_path / name
    shutil.copytree(EXAMPLE, ws)
    return ws


def script(tmp_path: Path, *steps: dict[str, Any]) -> Path:
    path = tmp_path / f"script-{len(list(tmp_path.glob('script-*')))}.json"
    path.write_text(json.dumps({"steps": list(steps)}))
    return path


def step(phase: str, *actions: dict[str, Any], iteration: int | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"phase": phase, "actions": list(actions)}
    if iteration is not None:
        s["iteration"] = iteration
    return s


def result(**fields: Any) -> dict[str, Any]:
    return {"do": "result", "set": fields}


def hang_once(children: int = 1, marker: str = ".hang-once") -> dict[str, Any]:
    """An action that hangs (with ``children`` sleepers) the first time it runs in a workspace."""
    return {"do": "once", "marker": marker, "actions": [{"do": "hang", "children": children}]}


def config(ws: Path, tmp_path: Path, fake_script: Path | None = None, **fields: Any) -> RunConfig:
    fields.setdefault("iterations", 2)
    fields.setdefault("runner", "fake")
    fields.setdefault("attempt_timeout", 30)
    fields.setdefault("build_timeout", 30)
    return RunConfig(
        workspace=ws,
        task_text=(ws / "task.md").read_text() if (ws / "task.md").exists() else "Do the task.",
        runner_options=RunnerOptions(fake_script=fake_script, fake_home=tmp_path / "fake-home"),
        **fields,
    )


async def run_bounded(cfg: RunConfig, seconds: float = 40) -> RunSummary:
    from harnessgym import run_async

    with anyio.fail_after(seconds):
        return await run_async(cfg)


def record(ws: Path, run_id: str, n: int) -> IterationRecord:
    path = ws / ".harnessgym" / "runs" / run_id / "iterations" / str(n) / "iteration.json"
    return IterationRecord.model_validate_json(path.read_text())


def registry(ws: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ws / ".harnessgym" / "registry.json").read_text())
    return data


def states(ws: Path) -> dict[str, str]:
    return {a["id"]: a["state"] for a in registry(ws)["artifacts"]}


def marked_processes(ws: Path) -> list[int]:
    """Processes carrying the workspace marker, whoever owns them."""
    return [pid for pid, env in scan_environ([WORKSPACE_ENV]) if env[WORKSPACE_ENV] == str(ws)]


def harnessgym_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "harnessgym", *args]


def hanging_children(ws: Path, iteration: int) -> list[int]:
    """The sleepers a ``hang`` action started in iteration ``iteration``'s attempt, from its transcript."""
    for transcript in (ws / ".harnessgym" / "runs").glob(f"*/iterations/{iteration}/attempt.transcript.txt"):
        for line in transcript.read_text().splitlines():
            if line.startswith("[action]") and '"children"' in line:
                children: list[int] = json.loads(line.split(" ", 1)[1])["children"]
                return children
    return []
