"""The framing codecs: both framings, split anywhere, garbage skipped, sizes bounded, linear time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mcp_host._wire.framing import Decoder, Frame, Junk, WireFraming, encode
from mcp_host._wire.jsonrpc import splice_id


def _feed_bytewise(decoder: Decoder, data: bytes) -> list[Frame | Junk]:
    out: list[Frame | Junk] = []
    for i in range(len(data)):
        out += decoder.feed(data[i : i + 1])
    return out


def test_both_framings_decode_when_split_at_every_byte() -> None:
    data = encode(b'{"a":1}', "newline") + encode(b'{"b":\n2}', "content-length") + b'{"c":3}\r\n'
    frames = _feed_bytewise(Decoder(), data)
    assert frames == [Frame(b'{"a":1}', "newline"), Frame(b'{"b":\n2}', "content-length"), Frame(b'{"c":3}', "newline")]


def test_junk_and_bad_headers_are_reported_and_the_next_messages_survive() -> None:
    data = (
        b"Starting server...\n"
        b"Content-Length: abc\r\n\r\n"
        b'{"a":1}\n'
        b"Content-Type: text/plain\r\n"
        b'{"b":2}\n'
        b'Content-Length: 7\r\n\r\n{"c":3}'
        b'!!!Content-Length: 7\r\n\r\n{"d":4}'
    )
    items = Decoder().feed(data)
    frames = [i.body for i in items if isinstance(i, Frame)]
    junk = [i.reason for i in items if isinstance(i, Junk)]
    assert frames == [b'{"a":1}', b'{"b":2}', b'{"c":3}', b'{"d":4}']
    assert len(junk) == 4
    assert "bad Content-Length" in junk[1]


def test_an_oversized_message_is_skipped_with_a_clear_error_and_the_stream_continues() -> None:
    decoder = Decoder(max_size=1000)
    big_cl = b"Content-Length: 5000\r\n\r\n" + b"x" * 5000
    big_line = b'{"id":7,"result":"' + b"y" * 3000 + b'"}\n'
    items: list[Frame | Junk] = []
    for chunk in (big_cl[:100], big_cl[100:], big_line[:1500], big_line[1500:], b'{"ok":1}\n'):
        items += decoder.feed(chunk)
    errors = [i for i in items if isinstance(i, Junk)]
    assert [e.error.size for e in errors if e.error] == [5000, 1500]
    assert "exceeds the 1000-byte limit" in errors[0].reason
    assert [i.body for i in items if isinstance(i, Frame)] == [b'{"ok":1}']


class _CountingBuffer(bytearray):
    """The decoder's buffer, counting the bytes its searches look at (what would make decoding quadratic)."""

    scanned = 0

    def find(self, sub: Any, start: Any = None, end: Any = None) -> int:
        lo = 0 if start is None else start
        hi = len(self) if end is None else min(end, len(self))
        found = super().find(sub, lo, hi)
        _CountingBuffer.scanned += (found + len(sub) if found >= 0 else hi) - lo
        return found


@pytest.mark.parametrize("framing", ["newline", "content-length"])
def test_a_10_mb_message_in_64_kib_chunks_is_scanned_about_once(framing: WireFraming) -> None:
    # Linear time as a count, not a clock: each byte is looked at a bounded number of times however it is
    # split, so a 10 MB message does not cost 160 rescans of its growing prefix. Its speed is in bench/.
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"text": "x" * 10_000_000}}).encode()
    data = encode(body, framing)
    decoder = Decoder()
    decoder._buf = _CountingBuffer()
    _CountingBuffer.scanned = 0
    frames = []
    for i in range(0, len(data), 65536):
        frames += decoder.feed(data[i : i + 65536])
    assert frames == [Frame(body, framing)]
    assert _CountingBuffer.scanned <= 2 * len(data), f"{_CountingBuffer.scanned} bytes scanned for {len(data)}"


def test_splice_replaces_only_the_envelope_id() -> None:
    raw = b'{"jsonrpc":"2.0","id":12,"result":{"id":12,"text":"a"}}'
    spliced = splice_id(raw, 12, "client-7")
    assert spliced is not None
    out, size = spliced
    assert json.loads(out) == {"jsonrpc": "2.0", "id": "client-7", "result": {"id": 12, "text": "a"}}
    assert size == len(b'{"id":12,"text":"a"}')
    assert splice_id(raw, 13, 1) is None
    assert splice_id(b'{"result":{},"id":12,"jsonrpc":"2.0"}', 12, 1) is None
