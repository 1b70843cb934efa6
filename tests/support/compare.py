"""Helpers of the compare tests: an artifact source whose registry holds a fixer tool and a working MCP server."""

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


LINES_MCP = {"kind": "mcp", "path": ".harnessgym/mcp/lines/harnessgym-mcp.json", "state": "active"}
"""A small working MCP server (one tool), so harnessed trials have the working harness they need."""


def add_lines_server(ws: Path) -> None:
    from runners.fake_agent import MCP_SERVER

    server = ws / ".harnessgym" / "mcp" / "lines"
    server.mkdir(parents=True)
    (server / "server.py").write_text(MCP_SERVER.format(framing="ndjson", self_test=True, name="lines",
                                                        tools=["inspect"]))  # fmt: skip
    manifest = {"name": "lines", "command": "python3", "args": [".harnessgym/mcp/lines/server.py"],
                "enabled_tools": ["inspect"], "self_test": True, "framing": "newline"}  # fmt: skip
    (server / "harnessgym-mcp.json").write_text(json.dumps(manifest))


def artifact_source(tmp_path: Path, *entries: dict[str, Any], mcp: bool = True) -> Path:
    """A workspace whose registry holds ``entries`` (and, with ``mcp``, the working ``lines`` MCP server, which a
    harnessed trial needs); every tool entry's file is the fixer."""
    ws = tmp_path / "source"
    (ws / ".harnessgym" / "tools").mkdir(parents=True)
    for entry in entries:
        (ws / entry["path"]).write_text(FIXER)
    if mcp:
        add_lines_server(ws)
        entries = (*entries, LINES_MCP)
    (ws / ".harnessgym" / "registry.json").write_text(json.dumps({"schema_version": 1, "artifacts": list(entries)}))
    return ws


def fixer_entry(state: str = "active", name: str = "fixer") -> dict[str, Any]:
    return {"kind": "tool", "path": f".harnessgym/tools/{name}.py", "state": state}
