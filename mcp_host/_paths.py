"""Where ``mcp_host`` keeps its files, in one place.

Under ``<workspace>/.harnessgym/``:

* ``mcp_calls.jsonl``: one line per ``tools/call`` (upstream-compatible, plus run_id/iteration/phase);
* ``host/logs/<server>.stderr.log``: each server's stderr, bounded.

What decides what is served (verdicts, the active set) is kept outside the workspace, where the agent does not
write: see :mod:`mcp_host._supervise.trust`.

The host's unix socket lives outside the workspace (``sun_path`` holds 108 bytes at most): under
``$XDG_RUNTIME_DIR`` or ``/tmp``, keyed by a hash of the workspace's real path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path

__all__ = [
    "calls_path",
    "host_dir",
    "logs_dir",
    "open_regular",
    "private_dir",
    "read_regular",
    "socket_path",
    "write_atomic",
]


def host_dir(workspace: Path) -> Path:
    return workspace / ".harnessgym" / "host"


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
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # whatever was planted under that name (a FIFO, a link) is replaced, never opened
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def open_regular(path: Path, flags: int = os.O_RDONLY, mode: int = 0o644) -> int:
    """Open ``path`` without following a symlink and without blocking, and only if it is a regular file.

    Everything under ``.harnessgym/`` may have been planted by the agent: a FIFO there would block an ``open``
    for reading or writing for good, and a symlink would make harnessgym read or append to a file anywhere.
    Raises ``OSError`` (``ELOOP`` for a link, ``EINVAL`` for anything but a regular file).
    """
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(22, f"{path} is not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, limit: int = 16 * 1024 * 1024) -> bytes:
    """The content of the regular file ``path`` (at most ``limit`` bytes), never following a link or blocking."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as fh:
        return fh.read(limit)
