"""Helpers of the tests of examples/optimization_task: workspaces holding a given counts.py, the benchmark run
the way harnessgym runs a post-attempt command, and the candidates the example's fake-agent script writes."""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from harnessgym.evidence.scores import Measurement
from harnessgym.evidence.verify import run_measurement

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "optimization_task"
BENCH = EXAMPLE / "bench.py"
FAKE_SCRIPT = EXAMPLE / "fake_agent.json"


def bench_command(mode: str, repeats: int | None = None, *extra: str) -> str:
    """The pristine benchmark (outside any workspace), run on the workspace's counts.py."""
    words = [sys.executable, str(BENCH), "--mode", mode, *(["--repeats", str(repeats)] if repeats else []), *extra]
    return shlex.join(words)


TASK_FILES = ("task.md", "counts.py", "bench.py")
"""What a workspace of the example holds (its README and the fake agent's script would give the answers away)."""


def workspace(tmp_path: Path, counts: str | None = None, name: str = "ws") -> Path:
    """The example's task files, with ``counts`` as counts.py when given."""
    ws = tmp_path / name
    ws.mkdir()
    for file in TASK_FILES:
        shutil.copy(EXAMPLE / file, ws / file)
    if counts is not None:
        (ws / "counts.py").write_text(counts)
    return ws


async def measure(ws: Path, mode: str, repeats: int | None = None, *extra: str) -> Measurement:
    """The benchmark run exactly as harnessgym runs and reads a post-attempt command."""
    n = len(list(ws.parent.glob(f"{ws.name}-bench-*.out")))
    out, err = ws.parent / f"{ws.name}-bench-{n}.out", ws.parent / f"{ws.name}-bench-{n}.err"
    return await run_measurement(bench_command(mode, repeats, *extra), "post_attempt", workspace=ws, timeout=180,
                                 stdout_path=out, stderr_path=err)  # fmt: skip


def load_bench() -> ModuleType:
    """bench.py as a module, for its inputs and its reference."""
    spec = importlib.util.spec_from_file_location("optimization_task_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scripted_counts() -> dict[int, str]:
    """The counts.py each attempt of the example's fake-agent script writes, by iteration."""
    script: dict[str, Any] = json.loads(FAKE_SCRIPT.read_text())
    written: dict[int, str] = {}
    for step in script["steps"]:
        for action in step["actions"]:
            if step["phase"] == "attempt" and action.get("do") == "write" and action["path"] == "counts.py":
                written[int(step["iteration"])] = str(action["text"])
    return written


def dev_answer_table() -> str:
    """A counts.py that cheats: the reference's answers to the dev inputs, hard-coded, and zeros elsewhere."""
    bench = load_bench()
    table = {tuple(xs): bench.reference(list(xs)) for xs in bench.dev_cases()}
    return f"TABLE = {table!r}\n\n\ndef smaller_after(xs):\n    return list(TABLE.get(tuple(xs), [0] * len(xs)))\n"


def cheating_script(path: Path, counts: str, iteration: int = 3) -> Path:
    """The example's fake-agent script with ``counts`` as what the attempt of ``iteration`` writes to counts.py."""
    script: dict[str, Any] = json.loads(FAKE_SCRIPT.read_text())
    for step in script["steps"]:
        if step["phase"] == "attempt" and int(step["iteration"]) == iteration:
            for action in step["actions"]:
                if action.get("do") == "write" and action["path"] == "counts.py":
                    action["text"] = counts
                elif action.get("do") == "result":
                    action["set"] = {**action["set"], "score": 0.001}  # and it claims a great score
    path.write_text(json.dumps(script, indent=1))
    return path
