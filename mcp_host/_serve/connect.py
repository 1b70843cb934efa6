"""The agent's MCP entry: relay stdio to the workspace's running host over its unix socket.

An agent CLI starts this as its stdio MCP server. It must answer at once, so it is a standard-library script
run by path with ``python -I -S``: nothing of harnessgym, pydantic or the SDK is imported, no site and no
argument parser either (Python starts in a few tens of milliseconds), and nothing in the workspace can stand
in for a module. The host it connects to was started before the session (by the run,
see :mod:`harnessgym.loop.host`) and answers ``initialize`` and ``tools/list`` from memory. When no host is
listening, ``--start`` names the command that starts one (a daemon holding the workspace's lock, so that
concurrent starts leave one), and the relay waits for it to listen.

Before the client's first byte it sends one notification carrying the session's run tag (run id,
iteration, phase), so calls made in this session are recorded with it; then it copies bytes both ways until
either side closes. It exits 0 when the client closes stdin, 1 when no host could be reached.
"""

from __future__ import annotations

import os
import select  # noqa: TID251 - a standalone script run by path: it cannot use mcp_host's helpers
import socket
import sys
import time

CONNECT_SCRIPT = os.path.realpath(__file__)
"""This file: an agent CLI runs it by path (``python -I -S``), so it imports nothing of the package."""
USAGE = "connect.py --socket PATH [--tag JSON] [--start JSON-ARGV] [--log PATH] [--wait SECONDS]"
TAG_METHOD = "notifications/harnessgym/tag"
"""Must match :data:`mcp_host.router.TAG_METHOD` (this script imports nothing of the package)."""
_RESPAWN_SECONDS = 3.0


def _connect(path: str, start: list[str] | None, log: str | None, wait: float) -> socket.socket | None:
    deadline = time.monotonic() + wait
    spawned = 0.0
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except OSError:
            sock.close()
        now = time.monotonic()
        if now >= deadline:
            return None
        # Without --start, a host being started elsewhere (by the run) is waited for.
        if start and now - spawned >= _RESPAWN_SECONDS:  # again later: a daemon just exiting holds the lock
            spawned = now
            _spawn(start, log)
        time.sleep(0.02)


def _spawn(argv: list[str], log: str | None) -> None:
    import subprocess  # noqa: TID251 - standalone (see above); only when no host listens

    err: int = subprocess.DEVNULL
    if log:
        try:  # never through a link, never into a FIFO planted there
            err = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
        except OSError:
            err = subprocess.DEVNULL
    try:
        subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                         start_new_session=True, close_fds=True)  # fmt: skip
    finally:
        if err != subprocess.DEVNULL:
            os.close(err)


def _pump(sock: socket.socket) -> None:
    poller = select.poll()  # select, not selectors: the module alone costs more than this whole script
    poller.register(0, select.POLLIN)
    poller.register(sock.fileno(), select.POLLIN)
    while True:
        for fd, _ in poller.poll():
            if fd == 0:
                data = os.read(0, 1 << 20)
                if data:
                    sock.sendall(data)
                else:  # the client closed: let the host finish its answers, then stop
                    poller.unregister(0)
                    sock.shutdown(socket.SHUT_WR)
            else:
                data = sock.recv(1 << 20)
                if not data:
                    return
                view = memoryview(data)
                while view:
                    view = view[os.write(1, view) :]


def _options(argv: list[str]) -> dict[str, str]:
    """``--name value`` pairs (argparse alone would double the start-up time)."""
    if len(argv) % 2 or not all(a.startswith("--") for a in argv[::2]):
        raise SystemExit(f"usage: {USAGE}")
    opts = dict(zip((a[2:] for a in argv[::2]), argv[1::2], strict=True))
    unknown = set(opts) - {"socket", "tag", "start", "log", "wait"}
    if unknown or "socket" not in opts:
        raise SystemExit(f"usage: {USAGE}")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = _options(sys.argv[1:] if argv is None else argv)
    start: list[str] | None = None
    if opts.get("start"):
        import json  # only to start a host: the common path sends the tag as it was given

        start = json.loads(opts["start"])
    sock = _connect(opts["socket"], start, opts.get("log"), float(opts.get("wait", "60")))
    if sock is None:
        print(f"harnessgym: no host listens on {opts['socket']}", file=sys.stderr)
        return 1
    with sock:
        # Spelled as json.dumps spells it: the host recognises the notification by this prefix.
        tag = '{"jsonrpc": "2.0", "method": "' + TAG_METHOD + '", "params": ' + opts.get("tag", "{}") + "}\n"
        sock.sendall(tag.encode())
        try:
            _pump(sock)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
