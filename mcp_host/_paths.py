"""Where ``mcp_host`` keeps its files, in one place.

Under ``<workspace>/.harnessgym/``:

* ``mcp_calls.jsonl``: one line per ``tools/call`` (upstream-compatible, plus run_id/iteration/phase);
* ``host/active.json``: the active server set the running host serves (written atomically);
* ``host/verdicts/<digest>.json``: cached qualification verdicts;
* ``host/logs/<server>.stderr.log``: each server's stderr, bounded.

The host's unix socket lives outside the workspace (``sun_path`` holds 108 bytes at most): under
``$XDG_RUNTIME_DIR`` or ``/tmp``, keyed by a hash of the workspace's real path.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

__all__ = [
    "active_path",
    "calls_path",
    "host_dir",
    "logs_dir",
    "private_dir",
    "socket_path",
    "verdicts_dir",
    "write_atomic",
]


def host_dir(workspace: Path) -> Path:
    return workspace / ".harnessgym" / "host"


def active_path(workspace: Path) -> Path:
    return host_dir(workspace) / "active.json"


def verdicts_dir(workspace: Path) -> Path:
    return host_dir(workspace) / "verdicts"


def logs_dir(workspace: Path) -> Path:
    return host_dir(workspace) / "logs"


def calls_path(workspace: Path) -> Path:
    """The telemetry file; ``HARNESSGYM_MCP_TELEMETRY_PATH`` overrides it, as upstream."""
    override = os.environ.get("HARNESSGYM_MCP_TELEMETRY_PATH")
    if override:
        return Path(override)
    return workspace / ".harnessgym" / "mcp_calls.jsonl"


def socket_path(workspace: Path) -> Path:
    """The host's unix socket for ``workspace``: short, per user, keyed by the workspace's real path."""
    key = hashlib.sha256(str(workspace.resolve()).encode()).hexdigest()[:16]
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    candidate = Path(base) / f"harnessgym-{os.getuid()}" / f"{key}.sock"
    if len(str(candidate).encode()) > 100:
        candidate = Path("/tmp") / f"harnessgym-{os.getuid()}" / f"{key}.sock"
    return candidate


def private_dir(directory: Path) -> None:
    """Make sure ``directory`` exists, is a real directory of ours and is closed to other users (mode 0700).

    The socket directory lives in a shared place (``/tmp``): another local user could create it first, then
    drive our host or put their own socket in its place. Raises ``PermissionError`` when it is not ours.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = os.lstat(directory)
    if not stat.S_ISDIR(st.st_mode):
        raise PermissionError(f"{directory} is not a directory (a symlink?); remove it")
    if st.st_uid != os.getuid():
        raise PermissionError(f"{directory} belongs to uid {st.st_uid}, not to uid {os.getuid()}; remove it")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(directory, 0o700)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
