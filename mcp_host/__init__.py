"""Supervise, frame, route and record the MCP servers agents write; serve them as one MCP endpoint.

``mcp_host`` knows nothing of agents or iterations and imports nothing from ``harnessgym`` or ``runners``.

* :func:`load_manifest` / :func:`load_manifests` read upstream-style manifests into :class:`ServerSpec`.
* :func:`qualify_servers` smoke-checks and self-tests servers concurrently (verdicts cached by digest).
* :func:`write_active_servers` sets what a running host serves; :func:`run_host` is the host itself.
* :func:`summarize_calls` counts the per-call telemetry.
* :func:`call_tool` / :func:`list_tools` reach a running host (``harnessgym mcp call``); :func:`run_bridge`
  wraps one server (``harnessgym mcp bridge``).

Errors: see :mod:`mcp_host.errors` for the tree.
"""

from __future__ import annotations

from .active import read_active_servers, write_active_servers
from .bridge import BridgeOptions, run_bridge
from .callclient import call_tool, list_tools
from .errors import (
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
from .health import HealthPolicy
from .host import HostOptions, run_host
from .manifest import SelfTestSpec, ServerSpec, discover_manifests, load_manifest, load_manifests
from .qualify import ServerVerdict, qualify_servers
from .telemetry import CallRecord, CallSummary, CallTail, RunTag, summarize_calls

__all__ = [
    "BridgeOptions",
    "CallRecord",
    "CallSummary",
    "CallTail",
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
    "call_tool",
    "discover_manifests",
    "list_tools",
    "load_manifest",
    "load_manifests",
    "qualify_servers",
    "read_active_servers",
    "run_bridge",
    "run_host",
    "summarize_calls",
    "write_active_servers",
]
