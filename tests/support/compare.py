"""Helpers of the compare tests: an artifact source whose registry holds a fixer tool."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.loop import result, step

FIXER = '''"""Fix numerics.py's log-sum-exp by shifting by the maximum."""
from pathlib import Path
p = Path("numerics.py")
old = "    return math.log(sum(math.exp(x) for x in xs))"
new = "    m = max(xs)\\n    return m + math.log(sum(math.exp(x - m) for x in xs))"
p.write_text(p.read_text().replace(old, new, 1))
'''
USE_FIXER_IF_PRESENT = step(
    "attempt",
    {"do": "run", "argv": ["{python}", ".harnessgym/tools/fixer.py"], "optional": True},
    result(status="solved", verified=True, summary="fixed, I am sure"),  # the claim never counts
)


def artifact_source(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    """A workspace whose registry holds ``entries``; every tool entry's file is the fixer."""
    ws = tmp_path / "source"
    (ws / ".harnessgym" / "tools").mkdir(parents=True)
    for entry in entries:
        (ws / entry["path"]).write_text(FIXER)
    (ws / ".harnessgym" / "registry.json").write_text(json.dumps({"schema_version": 1, "artifacts": list(entries)}))
    return ws


def fixer_entry(state: str = "active", name: str = "fixer") -> dict[str, Any]:
    return {"kind": "tool", "path": f".harnessgym/tools/{name}.py", "state": state}
