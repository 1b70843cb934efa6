"""Supervise, frame, route and record the MCP servers agents write; serve them as one MCP endpoint.

``mcp_host`` knows nothing of agents or iterations and imports nothing from ``harnessgym`` or ``runners``.

* :func:`load_manifest` / :func:`load_manifests` read upstream-style manifests into :class:`ServerSpec`.
* :func:`qualify_servers` smoke-checks and self-tests servers concurrently (verdicts cached by digest).
* :func:`write_active_servers` sets what a running host serves; :func:`run_host` is the host itself.
* :func:`summarize_calls` counts the per-call telemetry.
* :func:`call_tool` / :func:`list_tools` reach a running host (``harnessgym mcp call``); :func:`run_bridge`
  wraps one server (``harnessgym mcp bridge``).

Errors: see :mod:`mcp_host._errors` for the tree.
"""

from __future__ import annotations

from mcp_host._errors import (
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
from mcp_host._serve.active import read_active_servers, write_active_servers
from mcp_host._serve.bridge import BridgeOptions, run_bridge
from mcp_host._serve.callclient import call_tool, list_tools
from mcp_host._serve.host import HostOptions, run_host
from mcp_host._serve.telemetry import CallRecord, CallSummary, CallTail, RunTag, summarize_calls
from mcp_host._supervise.env import host_may_hold, is_secret_name, scrubbed_env
from mcp_host._supervise.fields import program, seconds, self_test
from mcp_host._supervise.health import HealthPolicy
from mcp_host._supervise.manifest import SelfTestSpec, ServerSpec, discover_manifests, load_manifest, load_manifests
from mcp_host._supervise.procs import PROC_TAG_VAR, ProcResult, kill_tree, run_process, spawn
from mcp_host._supervise.qualify import ServerVerdict, qualify_servers, run_self_test

__all__ = [
    "PROC_TAG_VAR",
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
    "ProcResult",
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
    "host_may_hold",
    "is_secret_name",
    "kill_tree",
    "list_tools",
    "load_manifest",
    "load_manifests",
    "program",
    "qualify_servers",
    "read_active_servers",
    "run_bridge",
    "run_host",
    "run_process",
    "run_self_test",
    "scrubbed_env",
    "seconds",
    "self_test",
    "spawn",
    "summarize_calls",
    "write_active_servers",
]
