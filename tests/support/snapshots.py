"""Whole records as snapshots: what changes from run to run is replaced by a placeholder, the rest is compared.

A snapshot asserts the shape and every stable value of a record at once (the MCP SDK snapshots whole
``CallToolResult``s the same way), so a field added, dropped or renamed shows in the diff.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

__all__ = ["normalized", "normalized_text"]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
_TIMED = ("duration", "_seconds", "_ms", "elapsed")
"""Keys of measured times: their whole value (a number, a distribution, a test on them) is a placeholder."""


def normalized_text(text: str, names: dict[str, str]) -> str:
    """``text`` with each value of ``names`` written ``<key>`` (longest first), UUIDs and timestamps too."""
    for key, value in sorted(names.items(), key=lambda kv: -len(kv[1])):
        text = text.replace(value, f"<{key}>")
    return _TIME.sub("<time>", _UUID.sub("<uuid>", text))


def _walk(value: Any, names: dict[str, str], key: str = "") -> Any:
    if value is not None and any(part in key for part in _TIMED):
        return "<timing>"
    if isinstance(value, dict):
        return {k: _walk(v, names, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, names, key) for v in value]
    if isinstance(value, str):
        return normalized_text(value, names)
    return value


def normalized(record: BaseModel | dict[str, Any], **names: str) -> dict[str, Any]:
    """``record`` as JSON data with its volatile values replaced: each of ``names`` (paths, ids) by ``<name>``,
    UUIDs by ``<uuid>``, timestamps by ``<time>`` and measured times by ``<timing>``."""
    data = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
    result: dict[str, Any] = _walk(data, names)
    return result
