"""One typed duration: ``"45m"``, ``"1h30m"``, ``"90s"``, ``"2.5"`` (seconds) all parse into :class:`Duration`."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from harnessgym.errors import DurationError

__all__ = ["Duration", "format_duration", "is_duration", "parse_duration"]

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_NEGATIVE = "a time limit cannot be negative; give how long the step may take, e.g. '5m'"


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string like ``"1h30m"``; raises :class:`DurationError`."""
    if isinstance(value, bool):
        raise DurationError(str(value))
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if text.startswith("-") and (_PART.fullmatch(text[1:]) or _is_number(text[1:])):
            raise DurationError(value, reason=_NEGATIVE)
        try:
            seconds = float(text)
        except ValueError:
            pos, seconds = 0, 0.0
            for match in _PART.finditer(text):
                if match.start() != pos or not text:
                    raise DurationError(value) from None
                seconds += float(match.group(1)) * _UNITS[match.group(2)]
                pos = match.end()
            if pos == 0 or pos != len(text):
                raise DurationError(value) from None
    else:
        raise DurationError(repr(value))
    if seconds != seconds or seconds == float("inf"):
        raise DurationError(str(value), reason="a time limit must be a finite number of seconds")
    if seconds < 0:
        raise DurationError(str(value), reason=_NEGATIVE)
    if seconds == 0:
        raise DurationError(str(value), reason="a limit of zero would stop the step before it starts; give a positive "
                            "duration such as '90s' or '45m' (there is no 'no limit': use a long one, e.g. '24h')")
    return seconds


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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
