"""Field readers for manifests: argument lists, programs, durations (the one duration grammar of the three
packages, :func:`parse_seconds`, lives here), self-tests.

Each raises :class:`~mcp_host._errors.ManifestError` naming the file and the field.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcp_host._errors import DurationError, ManifestError
from mcp_host._supervise.spec import SelfTestSpec

__all__ = ["MAX_SECONDS", "parse_seconds", "program", "seconds", "self_test", "str_list", "timeout"]

MAX_SECONDS = 86_400.0
"""The longest timeout a manifest may ask for: a day."""
_PYTHON = re.compile(r"python(3(\.\d+)?)?")


def str_list(path: Path, field: str, value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    scalar = (str, int, float)
    if not isinstance(value, list) or not all(isinstance(v, scalar) and not isinstance(v, bool) for v in value):
        raise ManifestError(path, field, f"must be a list of strings, got {json.dumps(value)[:80]}")
    return [str(v) for v in value]


def program(command: str) -> str:
    # A manifest saying "python3" means the interpreter harnessgym runs on: PATH may lead elsewhere (a
    # system python without the MCP SDK) once the environment is scrubbed.
    return sys.executable if "/" not in command and _PYTHON.fullmatch(command) else command


def parse_seconds(value: object, *, unitless: float = 1.0, maximum: float = math.inf) -> float:
    """Seconds from a duration, in every spelling harnessgym and the upstream manifests use; the one grammar.

    A number (``90``, ``2.5``, ``"90"``, ``"1e3"``) counts in units of ``unitless`` seconds (0.001 for the
    upstream ``*_ms`` manifest keys); text may name its units instead: ``"90s"``, ``"45 m"``, ``"500ms"``,
    ``"1h30m"``, ``"1h 30m"``. A usable duration is positive, finite and at most ``maximum``; anything else
    raises :class:`DurationError` saying which of the three it missed.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DurationError(value, "unreadable", _HINT)
    number: float | None
    if isinstance(value, str):
        number = _plain_number(value)
        if number is not None:
            seconds = number * unitless
        elif value.strip().startswith("-"):  # "-5m": readable, and refused below for its sign
            seconds = -_with_units(value, value.strip()[1:])
        else:
            seconds = _with_units(value, value)
    else:
        try:
            seconds = float(value) * unitless
        except OverflowError:  # an integer of hundreds of digits
            seconds = math.inf
    if seconds != seconds:  # NaN
        raise DurationError(value, "unreadable", _HINT)
    if seconds <= 0:
        raise DurationError(value, "not_positive", "is not allowed: a time limit must be positive (0 or less "
                            "would stop what it limits before it starts); write e.g. '90s' or '45m'")  # fmt: skip
    if seconds > maximum:
        raise DurationError(value, "too_long", f"is longer than the {maximum:g} s allowed here")
    if seconds == math.inf:  # every wait is bounded
        raise DurationError(value, "unreadable", _HINT)
    return seconds


_HINT = "is not a duration; write seconds ('90', '2.5') or units like '90s', '45m', '1h30m', '500ms'"
_PART = re.compile(r"\s*(\d+(?:\.\d*)?)\s*(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def _plain_number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def _with_units(value: str, text: str) -> float:
    text, pos, seconds = text.strip().lower(), 0, 0.0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            raise DurationError(value, "unreadable", _HINT)
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos == 0:
        raise DurationError(value, "unreadable", _HINT)
    return seconds


def seconds(path: Path, field: str, value: object, scale: float = 1.0) -> float:
    """A manifest's timeout field, in seconds (``scale`` for bare numbers: 0.001 for ``*_ms`` keys)."""
    try:
        return parse_seconds(value, unitless=scale, maximum=MAX_SECONDS)
    except DurationError as exc:
        shown = json.dumps(value)[:40] if not isinstance(value, str) else repr(value[:40])
        if exc.kind == "not_positive":
            raise ManifestError(path, field, f"must be positive, got {shown}") from None
        if exc.kind == "too_long":
            raise ManifestError(path, field, f"must be at most {MAX_SECONDS:g} s (a day), got {shown}") from None
        raise ManifestError(path, field, f"must be a number of seconds or a duration like '45s', got {shown}") from None


def timeout(
    path: Path,
    raw: Mapping[str, Any],
    timeouts: Mapping[str, Any],
    top: tuple[str, ...],
    nested_seconds: tuple[str, ...],
    nested_ms: tuple[str, ...],
    default: float,
) -> float:
    """Seconds from the first key present: top-level ``top``, then ``timeouts.<nested_seconds>``, then
    ``timeouts.<nested_ms>`` (milliseconds); else ``default``. Numbers or strings like ``"45s"``, ``"2m"``."""
    for key in top:
        if raw.get(key) is not None:
            return seconds(path, key, raw[key])
    for key in nested_seconds:
        if timeouts.get(key) is not None:
            return seconds(path, f"timeouts.{key}", timeouts[key])
    for key in nested_ms:
        if timeouts.get(key) is not None:
            return seconds(path, f"timeouts.{key}", timeouts[key], scale=0.001)
    return default


def self_test(
    path: Path, workspace: Path, value: object, server_argv: list[str], cwd: Path, timeout: float
) -> SelfTestSpec | None:
    if value is None or value is False:
        return None
    if value is True:
        return SelfTestSpec(argv=(*server_argv, "--self-test"), cwd=cwd, timeout=timeout)
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ManifestError(path, "self_test", f"cannot be split into arguments: {exc}") from None
        if not argv:
            raise ManifestError(path, "self_test", "is an empty command")
        return SelfTestSpec(argv=(program(argv[0]), *argv[1:]), cwd=cwd, timeout=timeout)
    if isinstance(value, list):
        argv = str_list(path, "self_test", value)
        if not argv:
            raise ManifestError(path, "self_test", "is an empty command")
        return SelfTestSpec(argv=(program(argv[0]), *argv[1:]), cwd=cwd, timeout=timeout)
    if isinstance(value, dict):
        command = value.get("command")
        if isinstance(command, str):
            try:
                argv = shlex.split(command) if " " in command.strip() else [command]
            except ValueError as exc:
                raise ManifestError(path, "self_test.command", f"cannot be split into arguments: {exc}") from None
        elif isinstance(command, list):
            argv = str_list(path, "self_test.command", command)
        else:
            raise ManifestError(path, "self_test.command", "is required in a self_test object (a string or a list)")
        if not argv:
            raise ManifestError(path, "self_test.command", "is an empty command")
        argv += str_list(path, "self_test.args", value.get("args"))
        test_cwd = cwd
        if value.get("cwd") is not None:
            if not isinstance(value["cwd"], str):
                raise ManifestError(path, "self_test.cwd", "must be a string")
            test_cwd = Path(value["cwd"]) if Path(value["cwd"]).is_absolute() else workspace / value["cwd"]
            try:
                is_dir = test_cwd.is_dir()
            except OSError:  # no file name at all (ENAMETOOLONG)
                is_dir = False
            if not is_dir:
                raise ManifestError(path, "self_test.cwd", f"{str(test_cwd)[:200]} is not a directory")
        for key, scale in (("timeout_seconds", 1.0), ("timeout_sec", 1.0), ("timeout_ms", 0.001)):
            if value.get(key) is not None:
                timeout = seconds(path, f"self_test.{key}", value[key], scale)
                break
        return SelfTestSpec(argv=(program(argv[0]), *argv[1:]), cwd=test_cwd.resolve(), timeout=timeout)
    raise ManifestError(path, "self_test", f"must be true, a string, a list or an object, got {json.dumps(value)[:60]}")
