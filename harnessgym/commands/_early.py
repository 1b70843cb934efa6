"""``harnessgym serve`` on stdio answers ``initialize`` before it imports the MCP SDK.

Importing the SDK and building the control server take about a second (several on a loaded machine), and an
agent CLI that starts ``harnessgym serve`` as its MCP server waits that long for the answer or gives up on
it. So the command first reads the client's first message itself (standard library only); when it is
``initialize`` and this version of harnessgym answered the same protocol version before, that answer (kept in
the state folder) goes out at once. The SDK server is then started on the same wire and is handed the
client's ``initialize`` as if it came first: it answers it too, and :class:`WireOut` drops that duplicate
(refreshing the kept answer should it differ). Any other first message (the 2026 ``server/discover`` probe,
an unknown version) simply waits for the SDK server, as before.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["First", "WireOut", "answer_early", "cache_path", "wire_lines"]


def _version() -> str:
    try:
        return version("harnessgym")
    except PackageNotFoundError:
        return "0"


def cache_path(state_dir: Path | None) -> Path:
    """Where answers are kept: the serve state folder (same default as ``ServeSettings.state_dir``)."""
    base = state_dir or Path(os.environ.get("HARNESSGYM_STATE_DIR") or Path.home() / ".local" / "state" / "harnessgym")
    return base / f"serve-initialize-{_version()}.json"


class First:
    """The client's first message as read from the wire, and whether it was already answered."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        """Every byte read so far (the first line and whatever followed it in the same reads)."""
        self.msg: dict[str, Any] | None = None
        self.answered = False
        line = raw.partition(b"\n")[0]
        try:
            msg = json.loads(line)
        except ValueError:
            return
        if isinstance(msg, dict) and msg.get("method") == "initialize" and isinstance(msg.get("id"), int | str):
            self.msg = msg

    @property
    def protocol(self) -> str:
        params = self.msg.get("params") if self.msg else None
        return str(params.get("protocolVersion")) if isinstance(params, dict) else ""


def _read_cache(path: Path) -> dict[str, Any]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return {}
    with os.fdopen(fd, "rb") as fh:
        try:
            data = json.loads(fh.read(1 << 20))
        except ValueError:
            return {}
    return data if isinstance(data, dict) else {}


def answer_early(wire_in: int, wire_out: int, cache: Path) -> First:
    """Read the first message from ``wire_in``; answer a known ``initialize`` on ``wire_out`` at once."""
    raw = b""
    while b"\n" not in raw and len(raw) < (1 << 20):
        chunk = os.read(wire_in, 65536)
        if not chunk:
            break
        raw += chunk
    first = First(raw)
    if first.msg is None:
        return first
    result = _read_cache(cache).get(first.protocol)
    if isinstance(result, dict):
        reply = json.dumps({"jsonrpc": "2.0", "id": first.msg["id"], "result": result}).encode() + b"\n"
        view = memoryview(reply)
        while view:
            view = view[os.write(wire_out, view) :]
        first.answered = True
    return first


class WireOut:
    """What the SDK server writes, onto the wire, minus its answer to an ``initialize`` already answered.

    It quacks like the ``anyio.AsyncFile[str]`` the SDK's ``stdio_server`` takes."""

    def __init__(self, fd: int, first: First, cache: Path) -> None:
        self.fd = fd
        self.first = first
        self.cache = cache
        self._awaiting = first.msg is not None

    async def write(self, text: str) -> None:
        import anyio

        if self._awaiting and self._is_first_answer(text):
            return
        data = memoryview(text.encode())
        while data:
            data = data[await anyio.to_thread.run_sync(os.write, self.fd, data) :]

    async def flush(self) -> None:
        return None

    def _is_first_answer(self, text: str) -> bool:
        try:
            msg = json.loads(text)
        except ValueError:
            return False
        assert self.first.msg is not None
        if not isinstance(msg, dict) or msg.get("id") != self.first.msg["id"] or "result" not in msg:
            return False
        self._awaiting = False
        kept = _read_cache(self.cache)
        if kept.get(self.first.protocol) != msg["result"]:
            kept[self.first.protocol] = msg["result"]
            try:
                self.cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.cache.with_name(f".{self.cache.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(kept))
                os.replace(tmp, self.cache)
            except OSError:
                pass
        return self.first.answered  # answered early: drop the duplicate; else it is the client's answer


async def wire_lines(first: First, fd: int) -> Any:
    """The client's lines: what :func:`answer_early` read, then the rest of the wire (an async iterator of str)."""
    import anyio

    pending = first.raw
    while True:
        while b"\n" in pending:
            line, _, pending = pending.partition(b"\n")
            yield line.decode("utf-8", errors="replace") + "\n"
        # Abandoned on cancel: a read blocked on an idle client must not hold the shutdown.
        chunk = await anyio.to_thread.run_sync(os.read, fd, 1 << 20, abandon_on_cancel=True)
        if not chunk:
            if pending:
                yield pending.decode("utf-8", errors="replace")
            return
        pending += chunk
