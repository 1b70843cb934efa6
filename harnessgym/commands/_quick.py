"""``harnessgym mcp call`` before click: the common call, to a host already running, with the standard library.

An agent's shell runs ``harnessgym mcp call --server S --tool T --arguments JSON`` once per call; importing
click, pydantic and the MCP SDK for each costs more than the call. :func:`try_quick_call` parses the same
options (anything it does not know, or ``--list-tools``, leaves the command to click) and asks
:func:`mcp_host.quick_call`; when that cannot answer (no host yet), the full command runs and starts one.
:func:`print_result` is the one way both paths print a result. This module imports only the standard library.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: `mcp call` must not pay for importing typing
if TYPE_CHECKING:
    from typing import Any

__all__ = ["print_result", "try_quick_call"]

_VALUED = {"--workspace", "--server", "--tool", "--arguments", "--arguments-file", "--timeout", "--idle-timeout"}
_FLAGS = {"--raw", "--no-start"}


def print_result(reply: dict[str, Any], raw: bool, echo: Any = print) -> int:
    """Print a ``tools/call`` reply as ``harnessgym mcp call`` does; the exit code (1 for an error)."""
    if "error" in reply:
        echo(json.dumps(reply["error"], indent=2))
        return 1
    result = reply.get("result") or {}
    if raw:
        echo(json.dumps(result, indent=2))
        return 1 if result.get("isError") else 0
    content = result.get("content") or []
    text = content[0].get("text") if content and isinstance(content[0], dict) else None
    if result.get("structuredContent") is not None and text is None:
        echo(json.dumps(result["structuredContent"], indent=2))
    elif text is not None and not result.get("isError"):
        try:
            echo(json.dumps(json.loads(text), indent=2))
        except ValueError:
            echo(json.dumps({"text": text, "isError": False}, indent=2))
    else:
        echo(json.dumps({"text": text, "isError": bool(result.get("isError"))}, indent=2))
    return 1 if result.get("isError") else 0


def _parse(argv: list[str]) -> dict[str, str | bool] | None:
    opts: dict[str, str | bool] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name in _VALUED:
            if not eq:
                if i + 1 >= len(argv):
                    return None
                value = argv[i + 1]
                i += 1
            opts[name] = value
        elif arg in _FLAGS:
            opts[arg] = True
        else:
            return None  # --list-tools, --help, a typo: click says it properly
        i += 1
    return opts


def try_quick_call(argv: list[str]) -> int | None:
    """The exit code of ``mcp call`` ``argv`` answered on the fast path, or None to run the full command."""
    opts = _parse(argv)
    if opts is None or not isinstance(opts.get("--server"), str) or not isinstance(opts.get("--tool"), str):
        return None
    try:
        if isinstance(opts.get("--arguments-file"), str):
            with open(str(opts["--arguments-file"]), encoding="utf-8") as fh:
                text = fh.read()
        else:
            text = str(opts.get("--arguments", "{}"))
        arguments = json.loads(text)
        timeout = float(str(opts.get("--timeout", "120")))
    except (OSError, ValueError):
        return None
    if not isinstance(arguments, dict):
        return None
    from mcp_host import quick_call

    workspace = os.path.realpath(str(opts.get("--workspace", ".")))
    reply = quick_call(workspace, str(opts["--server"]), str(opts["--tool"]), arguments, timeout=timeout)
    if reply is None:
        return None
    return print_result(reply, bool(opts.get("--raw")), lambda text: sys.stdout.write(text + "\n"))
