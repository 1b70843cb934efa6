"""Where ``mcp_host`` keeps its files, in one place; ``harnessgym.store.layout`` asks here for these.

Under ``<workspace>/.harnessgym/``:

* ``mcp/``: the manifests of the servers agents write (upstream's folder; harnessgym owns the rest of it);
* ``mcp_calls.jsonl``: one line per ``tools/call`` (upstream-compatible, plus run_id/iteration/phase);
* ``host/logs/<server>.stderr.log``: each server's stderr, bounded;
* ``host/daemon.log``: the stderr of a host daemon (a run's, or one ``harnessgym mcp call`` started).

What decides what is served (verdicts, the active set) is kept outside the workspace, where the agent does not
write: see :mod:`mcp_host._supervise.trust`.

The host's unix socket lives outside the workspace (``sun_path`` holds 108 bytes at most): under
``$XDG_RUNTIME_DIR`` or ``/tmp``, keyed by a hash of the workspace's real path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: `mcp call` reaches this module and must not import typing
if TYPE_CHECKING:
    from hashlib import sha256
    from pathlib import Path
else:  # the bare sha256, the same digest: hashlib costs `mcp call` 10 ms of imports
    try:
        from _sha256 import sha256
    except ImportError:  # Python 3.12 on
        try:
            from _sha2 import sha256
        except ImportError:
            from hashlib import sha256

__all__ = [
    "AGENT_FILE_LIMIT_BYTES",
    "HARNESS_DIR",
    "MANIFESTS_DIR",
    "calls_path",
    "daemon_log_path",
    "harness_dir",
    "host_dir",
    "logs_dir",
    "manifests_dir",
    "open_regular",
    "private_dir",
    "read_regular",
    "server_log_path",
    "socket_path",
    "write_atomic",
]

HARNESS_DIR = ".harnessgym"
"""The folder of a workspace that holds everything harnessgym and its agents keep there."""
MANIFESTS_DIR = "mcp"
"""The folder under :data:`HARNESS_DIR` where agents put MCP servers and their manifests."""


def harness_dir(workspace: Path) -> Path:
    return workspace / HARNESS_DIR


def manifests_dir(workspace: Path) -> Path:
    return harness_dir(workspace) / MANIFESTS_DIR


def host_dir(workspace: Path) -> Path:
    return harness_dir(workspace) / "host"


def logs_dir(workspace: Path) -> Path:
    return host_dir(workspace) / "logs"


def server_log_path(log_dir: Path, server: str) -> Path:
    """One server's stderr log in ``log_dir`` (normally :func:`logs_dir`)."""
    return log_dir / f"{server}.stderr.log"


def daemon_log_path(workspace: Path) -> Path:
    return host_dir(workspace) / "daemon.log"


def calls_path(workspace: Path) -> Path:
    """The telemetry file; ``HARNESSGYM_MCP_TELEMETRY_PATH`` overrides it, as upstream."""
    override = os.environ.get("HARNESSGYM_MCP_TELEMETRY_PATH")
    if override:
        from pathlib import Path  # here: `mcp call`'s fast path imports this module, not pathlib

        return Path(override)
    return harness_dir(workspace) / "mcp_calls.jsonl"


def socket_path(workspace: Path) -> Path:
    """The host's unix socket for ``workspace``: short, per user, keyed by the workspace's real path."""
    from pathlib import Path

    return Path(socket_file(workspace))


def socket_file(workspace: str | os.PathLike[str]) -> str:
    """:func:`socket_path` as a string, from ``os.path`` alone (``mcp call``'s fast path does not import
    pathlib)."""
    key = sha256(os.path.realpath(workspace).encode()).hexdigest()[:16]
    base = os.path.normpath(os.environ.get("XDG_RUNTIME_DIR") or "/tmp")
    candidate = os.path.join(base, f"harnessgym-{os.getuid()}", f"{key}.sock")
    if len(candidate.encode()) > 100:
        candidate = os.path.join("/tmp", f"harnessgym-{os.getuid()}", f"{key}.sock")
    return candidate


def private_dir(directory: str | os.PathLike[str]) -> None:
    """Make sure ``directory`` exists, is a real directory of ours and is closed to other users (mode 0700).

    The socket directory lives in a shared place (``/tmp``): another local user could create it first, then
    drive our host or put their own socket in its place. Raises ``PermissionError`` when it is not ours.
    """
    os.makedirs(directory, mode=0o700, exist_ok=True)
    st = os.lstat(directory)
    if not stat.S_ISDIR(st.st_mode):
        raise PermissionError(f"{directory} is not a directory (a symlink?); remove it")
    if st.st_uid != os.getuid():
        raise PermissionError(f"{directory} belongs to uid {st.st_uid}, not to uid {os.getuid()}; remove it")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(directory, 0o700)


AGENT_FILE_LIMIT_BYTES = 32 * 1024 * 1024
"""A JSON file an agent can write (result.json, registry.json) or replace (our records) larger than this is not
read: no honest one comes close, and reading it whole would cost the loop its memory."""


def read_regular(path: Path, limit: int | None = AGENT_FILE_LIMIT_BYTES) -> bytes:
    """The bytes of a regular file (symlinks followed) of at most ``limit`` bytes.

    The one read of files an agent may have put in place (the workspace is untrusted). Anything else an agent
    can put at ``path`` is refused with an :class:`OSError` whose ``strerror`` says why, and it never blocks:
    the file is opened non-blocking and checked before it is read, so a FIFO (whose read would wait forever
    for a writer) or a device is refused rather than read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file", str(path))
        if limit is not None and info.st_size > limit:
            raise OSError(errno.EFBIG, f"it is larger than {limit} bytes", str(path))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read() if limit is None else fh.read(limit + 1)
    finally:
        os.close(fd)
    if limit is not None and len(data) > limit:  # it grew while we read it
        raise OSError(errno.EFBIG, f"it is larger than {limit} bytes", str(path))
    return data


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` so readers see the old content or the new, never a mix, and
    the new survives a crash right after: a temp file beside it, fsync, rename, fsync of the folder.

    The one atomic write of the three packages. The temp file has a fresh name (two writers never share one)
    and is removed when anything fails.
    """
    import tempfile  # here, not at the top: `mcp call` reaches this module and never writes

    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


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
