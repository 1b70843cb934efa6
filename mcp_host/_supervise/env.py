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

from mcp_host._supervise.procs import PROC_TAG_VAR

__all__ = ["ALLOWED", "host_env", "host_may_hold", "is_passed_on", "is_secret_name", "scrubbed_env"]

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

_SECRET = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|PWD|CREDENTIAL|AUTH|COOKIE|PRIVATE|SESSION|(?:^|_)PAT(?:_|$)", re.IGNORECASE
)


def is_secret_name(name: str) -> bool:
    """True for a variable named like a key, token, secret, password or credential."""
    return _SECRET.search(name) is not None


def is_passed_on(name: str) -> bool:
    """Whether an inherited variable reaches a generated server: allow-listed (or ``LC_*``) and not secret-named.

    The one rule: :func:`scrubbed_env` applies it, and :func:`host_may_hold` builds on it for the host itself.
    """
    return (name in ALLOWED or name.startswith("LC_")) and not is_secret_name(name)


def host_may_hold(name: str) -> bool:
    """Whether the host process itself may inherit a variable: what it passes on, plus its own settings
    (``HARNESSGYM_*``, ``XDG_RUNTIME_DIR`` for its socket), never a secret-named one.

    Its children can read its ``/proc/<pid>/environ``, so whoever starts a host (the Claude runner's
    ``env -u`` wrapper, the ``mcp call`` daemon) strips everything else.
    """
    own = name.startswith("HARNESSGYM_") or name == "XDG_RUNTIME_DIR"
    return is_passed_on(name) or (own and not is_secret_name(name))


def host_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment to start a host daemon with: the part of ``base`` (default ``os.environ``) it may hold."""
    source = os.environ if base is None else base
    return {k: v for k, v in source.items() if host_may_hold(k)}


def scrubbed_env(
    extra: Mapping[str, str] | None = None,
    *,
    workspace: Path | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The allow-listed part of ``base`` (default ``os.environ``), plus ``extra``, minus secret-named names."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if is_passed_on(k)}
    if workspace is not None:
        env["HARNESSGYM_WORKSPACE"] = str(workspace)
    for key, value in (extra or {}).items():
        if not is_secret_name(key):
            env[key] = value
    return env
