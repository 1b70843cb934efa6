"""Finding what a killed run left behind.

Every child of a run carries ``HARNESSGYM_WORKSPACE`` and ``HARNESSGYM_OWNER_PID`` in its environment. When
harnessgym itself is killed with SIGKILL its agent (which leads its own process group) is orphaned; the next
run that takes the workspace lock (the previous holder is then surely dead) kills every process still marked
with that workspace and another owner. It never touches processes without both markers.
"""

from __future__ import annotations

import os
from pathlib import Path

from mcp_host import kill_tree, scan_environ

__all__ = ["OWNER_ENV", "WORKSPACE_ENV", "find_orphans", "marker_env", "reap_orphans"]

WORKSPACE_ENV = "HARNESSGYM_WORKSPACE"
OWNER_ENV = "HARNESSGYM_OWNER_PID"


def marker_env(workspace: Path, run_id: str) -> dict[str, str]:
    """The variables that mark a child as belonging to this run."""
    return {WORKSPACE_ENV: str(workspace), OWNER_ENV: str(os.getpid()), "HARNESSGYM_RUN_ID": run_id}


def find_orphans(workspace: Path, *, own: bool = False) -> list[int]:
    """Processes marked with ``workspace`` whose owner is not this process (``own``: whose owner is this one)."""
    me = str(os.getpid())
    return [
        pid
        for pid, env in scan_environ([WORKSPACE_ENV, OWNER_ENV])
        if env.get(WORKSPACE_ENV) == str(workspace) and OWNER_ENV in env and (env[OWNER_ENV] == me) == own
    ]


async def reap_orphans(workspace: Path, *, own: bool = False) -> list[int]:
    """Kill the process trees a dead run left in ``workspace`` (``own``: that this run left at its end, such as
    a host daemon an agent started). Call only while holding the workspace lock."""
    pids = find_orphans(workspace, own=own)
    for pid in pids:
        await kill_tree(pid, grace=1.0)
    return pids
