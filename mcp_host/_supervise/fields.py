"""Field readers for manifests: argument lists, programs, durations in every upstream spelling, self-tests.

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

from mcp_host._errors import ManifestError
from mcp_host._supervise.spec import SelfTestSpec

__all__ = ["program", "seconds", "self_test", "str_list", "timeout"]

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


def seconds(path: Path, field: str, value: object, scale: float = 1.0) -> float:
    if isinstance(value, bool) or value is None:
        raise ManifestError(path, field, f"must be a number of seconds, got {json.dumps(value)}")
    if isinstance(value, str):
        text = value.strip().lower()
        match = re.fullmatch(r"(\d+(?:\.\d*)?)\s*(ms|s|m|h)?", text)
        if not match:
            raise ManifestError(path, field, f"must be a number of seconds, got {value!r}")
        unit = match.group(2)
        number = float(match.group(1))
        seconds = number * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit] if unit else number * scale
    elif isinstance(value, int | float):
        try:
            seconds = float(value) * scale
        except OverflowError:
            seconds = math.inf
    else:
        raise ManifestError(path, field, f"must be a number of seconds, got {json.dumps(value)[:40]}")
    if not seconds > 0:  # NaN too
        raise ManifestError(path, field, f"must be positive, got {str(value)[:40]}")
    if seconds > MAX_SECONDS:  # infinity too: every wait is bounded
        raise ManifestError(path, field, f"must be at most {MAX_SECONDS:g} s (a day), got {str(value)[:40]}")
    return seconds


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
