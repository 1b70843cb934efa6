"""The agent's MCP entry: relay stdio to the workspace's running host over its unix socket.

An agent CLI starts this as its stdio MCP server. It must answer at once, so it is a standard-library script
run by path with ``python -I`` (nothing of harnessgym, pydantic or the SDK is imported, and nothing in the
workspace can stand in for a module): the host it connects to was started before the session (by the run,
see :mod:`harnessgym.loop.host`) and answers ``initialize`` and ``tools/list`` from memory. When no host is
listening, ``--start`` names the command that starts one (a daemon holding the workspace's lock, so that
concurrent starts leave one), and the relay waits for it to listen.

Before the client's first byte it sends one notification carrying the session's run tag (run id,
iteration, phase), so calls made in this session are recorded with it; then it copies bytes both ways until
either side closes. It exits 0 when the client closes stdin, 1 when no host could be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

CONNECT_SCRIPT = Path(__file__).resolve()
"""This file: an agent CLI runs it by path (``python -I``), so it imports nothing of the package."""
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
        if not start or now >= deadline:
            return None
        if now - spawned >= _RESPAWN_SECONDS:  # again later: a daemon that was just exiting holds the lock
            spawned = now
            _spawn(start, log)
        time.sleep(0.02)


def _spawn(argv: list[str], log: str | None) -> None:
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
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ, "stdin")
    selector.register(sock, selectors.EVENT_READ, "host")
    while True:
        for key, _ in selector.select():
            if key.data == "stdin":
                data = os.read(0, 1 << 20)
                if data:
                    sock.sendall(data)
                else:  # the client closed: let the host finish its answers, then stop
                    selector.unregister(0)
                    sock.shutdown(socket.SHUT_WR)
            else:
                data = sock.recv(1 << 20)
                if not data:
                    return
                view = memoryview(data)
                while view:
                    view = view[os.write(1, view) :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--socket", required=True, help="The host's unix socket.")
    parser.add_argument("--tag", default="{}", help="The session's run tag as a JSON object.")
    parser.add_argument("--start", default=None, help="The command (a JSON array) that starts a host daemon.")
    parser.add_argument("--log", default=None, help="Where a daemon started here writes its stderr.")
    parser.add_argument("--wait", type=float, default=60.0, help="Seconds to wait for a host to listen.")
    args = parser.parse_args(argv)
    start = json.loads(args.start) if args.start else None
    sock = _connect(args.socket, start, args.log, args.wait)
    if sock is None:
        print(f"harnessgym: no host listens on {args.socket}", file=sys.stderr)
        return 1
    with sock:
        tag = {"jsonrpc": "2.0", "method": TAG_METHOD, "params": json.loads(args.tag)}
        sock.sendall(json.dumps(tag).encode() + b"\n")
        try:
            _pump(sock)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
