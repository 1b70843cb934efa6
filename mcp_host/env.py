"""The environment a generated server (or its self-test) gets: an allow-list, never a secret.

Agent-written servers are untrusted code. Claude Code hands its whole environment, API key included, to the
MCP servers it starts; harnessgym must not pass that on. A child sees only the variables in
:data:`ALLOWED`, those starting with ``LC_``, ``HARNESSGYM_WORKSPACE``, and what its manifest asks for, minus
anything whose name looks like a key, token, secret, password or credential (even if the manifest asks).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from .procs import PROC_TAG_VAR

__all__ = ["ALLOWED", "is_secret_name", "scrubbed_env"]

ALLOWED = frozenset(
    {
        "PATH",
        "HOME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "PYTHONPATH",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "VIRTUAL_ENV",
        "HARNESSGYM_WORKSPACE",
        "HARNESSGYM_RUN_ID",
        "HARNESSGYM_ITERATION",
        "HARNESSGYM_PHASE",
        "SYSTEMROOT",
        # Not a secret: the process tag lets harnessgym sweep a server's escaped grandchildren too.
        PROC_TAG_VAR,
    }
)

_SECRET = re.compile(r"KEY|TOKEN|SECRET|PASSW|PWD|CREDENTIAL|AUTH|COOKIE|PRIVATE|SESSION", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for a variable named like a key, token, secret, password or credential."""
    return _SECRET.search(name) is not None


def scrubbed_env(
    extra: Mapping[str, str] | None = None,
    *,
    workspace: Path | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The allow-listed part of ``base`` (default ``os.environ``), plus ``extra``, minus secret-named names."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if (k in ALLOWED or k.startswith("LC_")) and not is_secret_name(k)}
    if workspace is not None:
        env["HARNESSGYM_WORKSPACE"] = str(workspace)
    for key, value in (extra or {}).items():
        if not is_secret_name(key):
            env[key] = value
    return env
