"""One typed duration: ``"45m"``, ``"1h30m"``, ``"90s"``, ``"2.5"`` (seconds) all parse into :class:`Duration`.

The grammar is :func:`mcp_host.parse_seconds`, shared with the MCP server manifests, so a duration is
spelled the same way on the command line, in a tool call and in a manifest; this module only puts
harnessgym's error on it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from harnessgym.errors import DurationError
from mcp_host import DurationError as UnusableDuration
from mcp_host import parse_seconds

__all__ = ["Duration", "format_duration", "is_duration", "parse_duration"]


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string like ``"1h30m"``; raises :class:`DurationError` saying why not."""
    try:
        return parse_seconds(value)
    except UnusableDuration as exc:
        raise DurationError(value if isinstance(value, str) else repr(value), why=exc.problem) from None


def format_duration(seconds: float) -> str:
    """A short human form: ``2700`` -> ``"45m"``, ``5400`` -> ``"1h30m"``, ``2.5`` -> ``"2.5s"``."""
    if seconds != int(seconds):
        return f"{seconds:g}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


_INPUT_SCHEMA = {
    "anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string"}],
    "description": "A duration: seconds, or text like '90s', '45m', '1h30m'.",
}

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(lambda s: s, return_type=float),
    WithJsonSchema(_INPUT_SCHEMA, mode="validation"),
]
"""Seconds as a float; accepts numbers and strings like ``"45m"`` when validated (its input schema says so)."""


def is_duration(metadata: Any) -> bool:
    """Whether field metadata (or an ``Annotated`` type) carries :data:`Duration`'s parser."""
    items = getattr(metadata, "__metadata__", metadata)
    if not isinstance(items, tuple | list):
        return False
    return any(getattr(m, "func", None) is parse_duration for m in items)
