"""Incremental framing codecs for MCP over byte streams: newline-delimited JSON and Content-Length.

The :class:`Decoder` accepts both framings on the same stream, deciding per message from the first
non-blank byte: ``{`` or ``[`` starts a JSON line; a ``Name: value`` line starts a header block that must
carry a ``Content-Length``. Anything else (a stray ``print``, a banner) is junk: it is reported and skipped up
to the next newline or the next ``Content-Length:``, so a server that prints garbage does not lose the
messages that follow. A message larger than ``max_size`` is reported and skipped as it streams past.

It never raises on input: problems come out as :class:`Junk` items next to the good :class:`Frame` items.
Buffers grow by appending and shrink from the front, and a partial line is scanned only once, so a 10 MB
message costs O(size).

Encoding is :func:`encode`. Newline framing requires a body without raw newlines (``json.dumps`` without
``indent`` never emits one).
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from mcp_host._errors import MessageTooLargeError

__all__ = ["DEFAULT_MAX_MESSAGE_BYTES", "Decoder", "Frame", "Framing", "Junk", "WireFraming", "encode"]

Framing = Literal["auto", "newline", "content-length"]
"""How a server frames messages; ``auto`` means detect (see :mod:`mcp_host._supervise.downstream`)."""
WireFraming = Literal["newline", "content-length"]

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""64 MiB: room for a 10 MB tool result sent twice over (text plus structuredContent), JSON-escaped."""

_MAX_HEADER_BYTES = 8192
_WS = b" \t\r\n"
_HEADER_LINE = re.compile(rb"content-(?:length|type)[ \t]*:", re.IGNORECASE)
_PLAIN_HEADER = re.compile(rb"Content-Length: ?(\d{1,12})\r\n\r\n")
"""The header nearly every Content-Length message carries: read with one match (the general parser does the rest)."""
_RESYNC = re.compile(rb"\n|content-length[ \t]*:", re.IGNORECASE)


class Frame(NamedTuple):
    """One complete message body and the framing it arrived in."""

    body: bytes
    framing: WireFraming


class Junk(NamedTuple):
    """Bytes that were skipped, and why."""

    reason: str
    head: bytes
    """The first bytes of what was skipped (at most 200), for the log."""
    error: MessageTooLargeError | None = None


def encode(body: bytes, framing: WireFraming) -> bytes:
    if framing == "newline":
        return body + b"\n"
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class Decoder:
    """Splits a byte stream into :class:`Frame` and :class:`Junk` items; feed it chunks as they arrive."""

    def __init__(self, max_size: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self.max_size = max_size
        self._buf = bytearray()
        self._scan = 0  # where to resume looking for a newline in a partial JSON line
        self._skip = 0  # bytes of an oversized Content-Length body still to discard
        self._discard_line = False  # an oversized JSON line is being discarded up to its newline
        self._orphan_body = False  # a header block without a usable length came before: its body may follow

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame | Junk]:
        buf = self._buf
        buf += data
        out: list[Frame | Junk] = []
        while buf:
            if self._skip:
                n = min(self._skip, len(buf))
                del buf[:n]
                self._skip -= n
                continue
            if self._discard_line:
                nl = buf.find(b"\n", self._scan)
                if nl < 0:
                    buf.clear()
                    self._scan = 0
                    break
                del buf[: nl + 1]
                self._scan = 0
                self._discard_line = False
                continue
            start = _first_non_blank(buf)
            if start < 0:
                buf.clear()
                self._scan = 0
                break
            if start:
                del buf[:start]
                self._scan = max(0, self._scan - start)
            first = buf[0]
            if first in b"{[" and self._orphan_body:
                if not self._orphan(out):
                    break
            elif first in b"{[":
                if not self._json_line(out):
                    break
            elif _HEADER_LINE.match(buf):
                if not self._header_block(out):
                    break
            elif not self._junk(out):
                break
        return out

    def _json_line(self, out: list[Frame | Junk]) -> bool:
        buf = self._buf
        nl = buf.find(b"\n", self._scan)
        if nl < 0:
            if len(buf) > self.max_size:
                err = MessageTooLargeError(len(buf), self.max_size)
                out.append(Junk(str(err), bytes(buf[:200]), err))
                self._discard_line = True
                self._scan = 0
                buf.clear()
            else:
                self._scan = len(buf)
            return False
        end = nl - 1 if nl and buf[nl - 1] == 0x0D else nl
        if end > self.max_size:  # its end arrived in the chunk that took it over the limit
            err = MessageTooLargeError(end, self.max_size)
            out.append(Junk(str(err), bytes(buf[:200]), err))
        else:
            out.append(Frame(bytes(buf[:end]), "newline"))
        del buf[: nl + 1]
        self._scan = 0
        return True

    def _header_block(self, out: list[Frame | Junk]) -> bool:
        self._orphan_body = False
        buf = self._buf
        plain = _PLAIN_HEADER.match(buf)
        if plain is not None and int(plain.group(1)) <= self.max_size:
            start, end = plain.end(), plain.end() + int(plain.group(1))
            if len(buf) < end:
                return False
            out.append(Frame(bytes(buf[start:end]), "content-length"))
            del buf[:end]
            return True
        pos = 0
        length: int | None = None
        bad: str | None = None
        while True:
            line_start = pos
            nl = buf.find(b"\n", pos, pos + _MAX_HEADER_BYTES + 1)
            if nl < 0:
                if len(buf) - pos > _MAX_HEADER_BYTES:
                    out.append(Junk("a header line longer than 8 KiB", bytes(buf[:200])))
                    del buf[: pos + _MAX_HEADER_BYTES]
                    return True
                return False
            line = bytes(buf[pos:nl]).rstrip(b"\r")
            pos = nl + 1
            if not line:
                break
            if pos > _MAX_HEADER_BYTES:
                out.append(Junk("a header block longer than 8 KiB", bytes(buf[:200])))
                del buf[:pos]
                return True
            name, sep, value = line.partition(b":")
            if not sep or line[:1] in (b"{", b"["):
                # Not a header: the block so far is junk; resume at this line.
                out.append(Junk(f"a header block broken by {line[:60]!r}", bytes(buf[: min(line_start, 200)])))
                del buf[:line_start]
                return True
            if name.strip().lower() == b"content-length":
                text = value.strip()
                if text.isdigit():
                    length = int(text)
                else:
                    bad = f"a bad Content-Length {text[:40]!r}"
        if length is None:
            out.append(Junk(bad or "a header block without Content-Length", bytes(buf[: min(pos, 200)])))
            del buf[:pos]
            self._orphan_body = True
            return True
        if length > self.max_size:
            err = MessageTooLargeError(length, self.max_size)
            out.append(Junk(str(err), bytes(buf[:200]), err))
            del buf[:pos]
            self._skip = length
            return True
        if len(buf) < pos + length:
            return False
        out.append(Frame(bytes(buf[pos : pos + length]), "content-length"))
        del buf[: pos + length]
        return True

    def _orphan(self, out: list[Frame | Junk]) -> bool:
        """The body after a header block without a usable length (``Content-Length: abc``): its end is unknown,
        so it runs to the next header or newline, whichever comes first, and is skipped; framing resumes there.
        Without this, the body would swallow the next message's header and every message after it."""
        buf = self._buf
        m = _RESYNC.search(buf, 1)
        if m is None:
            if len(buf) > self.max_size:
                out.append(Junk("the body of a header block without a usable length", bytes(buf[:200])))
                self._discard_line = True
                self._orphan_body = False
                buf.clear()
            return False
        self._orphan_body = False
        if m.group(0) == b"\n":
            return self._json_line(out)  # a whole line: a newline-framed message after all
        out.append(Junk("the body of a header block without a usable length", bytes(buf[: min(m.start(), 200)])))
        del buf[: m.start()]
        return True

    def _junk(self, out: list[Frame | Junk]) -> bool:
        buf = self._buf
        m = _RESYNC.search(buf, 1)
        if m is None:
            if len(buf) > _MAX_HEADER_BYTES:
                out.append(Junk("bytes that are neither JSON nor a header", bytes(buf[:200])))
                self._discard_line = True
                self._scan = 0
                buf.clear()
            return False
        cut = m.end() if m.group(0) == b"\n" else m.start()
        out.append(Junk("bytes that are neither JSON nor a header", bytes(buf[: min(cut, 200)])))
        del buf[:cut]
        return True


def _first_non_blank(buf: bytearray) -> int:
    for i, byte in enumerate(buf):
        if byte not in _WS:
            return i
    return -1
