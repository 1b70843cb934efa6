"""Helpers of the optimization tests: a workspace whose ``measure.py`` prints the score in ``score.txt``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from harnessgym.config import RunConfig
from harnessgym.evidence.scores import BestCheckpoint
from support.loop import config, result, script, step

MEASURE = f"{sys.executable} measure.py"
MEASURE_PY = """import json, pathlib, sys
text = pathlib.Path("score.txt").read_text().strip()
if text == "broken":
    print(json.dumps({"status": "failed", "error": "the build is broken"}))
    sys.exit(1)
print("measuring...", file=sys.stderr)
print(json.dumps({"status": "passed", "metrics": {"latency": float(text)}, "score": float(text)}))
"""


def workspace(tmp_path: Path, score: str = "10") -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(parents=True)
    (ws / "task.md").write_text("Make score.txt lower.\n")
    (ws / "measure.py").write_text(MEASURE_PY)
    (ws / "score.txt").write_text(score + "\n")
    (ws / ".git").mkdir()  # never checkpointed or restored
    (ws / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return ws


def scores(*per_iteration: str, extra: dict[int, list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """Attempt steps writing ``per_iteration[i]`` to score.txt in iteration i+1 (and claiming nothing solved)."""
    return [
        step("attempt", *(extra or {}).get(i, []), {"do": "write", "path": "score.txt", "text": f"{value}\n"},
             result(status="incomplete"), iteration=i)
        for i, value in enumerate(per_iteration, start=1)
    ]  # fmt: skip


def opt_config(ws: Path, tmp_path: Path, steps: list[dict[str, Any]], **fields: Any) -> RunConfig:
    fields.setdefault("iterations", len([s for s in steps if s["phase"] == "attempt"]))
    return config(ws, tmp_path, script(tmp_path, *steps), post_attempt_command=MEASURE, optimization_mode=True,
                  qualify_artifacts=False, **fields)  # fmt: skip


def run_dir(ws: Path, run_id: str) -> Path:
    return ws / ".harnessgym" / "runs" / run_id


def manifest(ws: Path, run_id: str) -> BestCheckpoint:
    return BestCheckpoint.model_validate_json((run_dir(ws, run_id) / "checkpoints/best/best_manifest.json").read_text())
