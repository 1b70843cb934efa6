"""The few JSON-RPC helpers the router needs: compact encoding, error replies, and id splicing.

The router parses each message once with ``json.loads``. To forward a large response under another id it
does not re-encode the whole message: when the body starts with the usual envelope
(``{"jsonrpc":"2.0","id":<int>,"result":``) only the id bytes are replaced (:func:`splice_id`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from mcp_host import _wire

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_REQUEST",
    "LATEST_VERSION",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "REQUEST_TIMEOUT",
    "SUPPORTED_VERSIONS",
    "dumps",
    "error",
    "is_error_answer",
    "result",
    "splice_id",
]

SUPPORTED_VERSIONS, LATEST_VERSION = _wire.SUPPORTED_VERSIONS, _wire.LATEST_VERSION

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
REQUEST_TIMEOUT = -32001

_ENVELOPE = re.compile(rb'\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(-?\d+)\s*,\s*"(result|error)"\s*:')
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON without raw newlines (safe for newline framing)."""
    return _encoder.encode(obj).encode("utf-8")


def error(request_id: Any, code: int, message: str, data: Any = None) -> bytes:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return dumps({"jsonrpc": "2.0", "id": request_id, "error": err})


def result(request_id: Any, value: Any) -> bytes:
    return dumps({"jsonrpc": "2.0", "id": request_id, "result": value})


def is_error_answer(raw: bytes) -> bool:
    """Whether ``raw``, in the usual envelope (see :func:`splice_id`), is an error answer."""
    m = _ENVELOPE.match(raw)
    return m is not None and m.group(2) == b"error"


def splice_id(raw: bytes, expected_id: int, new_id: Any) -> tuple[bytes, int] | None:
    """``raw`` with its top-level integer id replaced by ``new_id``, and the size of its result/error member.

    None when the envelope is not in the usual shape or ``raw`` holds a raw newline (the caller then
    re-encodes the parsed message).
    """
    m = _ENVELOPE.match(raw)
    if m is None or int(m.group(1)) != expected_id or b"\n" in raw:
        return None
    out = b"".join((raw[: m.start(1)], dumps(new_id), raw[m.end(1) :]))
    return out, len(raw) - m.end() - 1
