"""``harnessgym serve``: the MCP control plane over the library API.

Tools start, follow, cancel and resume runs, step single iterations, score workspaces, manage artifacts, and
run plain-against-harnessed comparisons in the background; resources expose run summaries, iteration records
and transcripts. It must never touch paths outside the allowed roots, never accept an HTTP request without the
token once one is set, and never keep run state only in memory: the journal on disk is the record, this
package only adds what a live process knows.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harnessgym.serve._server import build_server, run_server, serve_async
    from harnessgym.serve._settings import LOOPBACK_HOSTS, ServeSettings, default_state_dir

__all__ = ["LOOPBACK_HOSTS", "ServeSettings", "build_server", "default_state_dir", "run_server", "serve_async"]

# Loaded on first use, so that ``harnessgym serve --help`` (which reads ServeSettings) does not load the SDK.
_HOME = {
    **dict.fromkeys(["build_server", "run_server", "serve_async"], "harnessgym.serve._server"),
    **dict.fromkeys(["LOOPBACK_HOSTS", "ServeSettings", "default_state_dir"], "harnessgym.serve._settings"),
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'harnessgym.serve' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
