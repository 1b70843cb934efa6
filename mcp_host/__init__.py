"""Supervise, frame, route and record the MCP servers agents write; serve them as one MCP endpoint.

``mcp_host`` knows nothing of agents or iterations and imports nothing from ``harnessgym`` or ``runners``.

* :func:`load_manifest` / :func:`load_manifests` read upstream-style manifests into :class:`ServerSpec`.
* :func:`qualify_servers` smoke-checks and self-tests servers concurrently (verdicts cached by digest).
* :func:`write_active_servers` sets what a running host serves; :func:`run_host` is the host itself.
* :func:`summarize_calls` counts the per-call telemetry.
* :func:`parse_seconds` is the duration grammar, :func:`write_atomic` the atomic write,
  :func:`cancel_on_signal` turns SIGTERM/SIGINT into a cancellation, :func:`scan_environ` finds processes by
  the marker variables they inherited: the one copy of each for all three packages.
* :func:`call_tool` / :func:`list_tools` reach a running host (``harnessgym mcp call``); :func:`run_bridge`
  wraps one server (``harnessgym mcp bridge``).

Errors: see :mod:`mcp_host.errors` for the tree.
"""

from __future__ import annotations

from ._supervise.proctable import scan_environ
from ._version import __version__
from .active import read_active_servers, write_active_servers
from .bridge import BridgeOptions, run_bridge
from .callclient import call_tool, list_tools
from .errors import (
    DurationError,
    FramingError,
    HostUnavailableError,
    ManifestError,
    MCPHostError,
    MessageTooLargeError,
    ServerCrashedError,
    ServerError,
    ServerStartError,
    ServerTimeoutError,
)
from .fields import parse_seconds
from .health import HealthPolicy
from .host import HostOptions, run_host
from .manifest import SelfTestSpec, ServerSpec, discover_manifests, load_manifest, load_manifests
from .paths import write_atomic
from .procs import cancel_on_signal
from .qualify import ServerVerdict, qualify_servers
from .telemetry import CallRecord, CallSummary, RunTag, summarize_calls

__all__ = [
    "BridgeOptions",
    "CallRecord",
    "CallSummary",
    "DurationError",
    "FramingError",
    "HealthPolicy",
    "HostOptions",
    "HostUnavailableError",
    "MCPHostError",
    "ManifestError",
    "MessageTooLargeError",
    "RunTag",
    "SelfTestSpec",
    "ServerCrashedError",
    "ServerError",
    "ServerSpec",
    "ServerStartError",
    "ServerTimeoutError",
    "ServerVerdict",
    "__version__",
    "call_tool",
    "cancel_on_signal",
    "discover_manifests",
    "list_tools",
    "load_manifest",
    "load_manifests",
    "parse_seconds",
    "qualify_servers",
    "read_active_servers",
    "run_bridge",
    "run_host",
    "scan_environ",
    "summarize_calls",
    "write_active_servers",
    "write_atomic",
]
