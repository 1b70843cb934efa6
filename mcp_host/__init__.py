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

Errors: see :mod:`mcp_host._errors` for the tree.
"""

from __future__ import annotations

from mcp_host._errors import (
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
from mcp_host._paths import (
    AGENT_FILE_LIMIT_BYTES,
    HARNESS_DIR,
    MANIFESTS_DIR,
    calls_path,
    harness_dir,
    host_dir,
    read_regular,
    write_atomic,
)
from mcp_host._serve.active import read_active_servers, write_active_servers
from mcp_host._serve.bridge import BridgeOptions, run_bridge
from mcp_host._serve.callclient import call_tool, list_tools
from mcp_host._serve.host import HostOptions, run_host
from mcp_host._serve.telemetry import CallRecord, CallSummary, CallTail, RunTag, calls_offset, summarize_calls
from mcp_host._supervise.env import host_may_hold, is_secret_name, scrubbed_env
from mcp_host._supervise.fields import parse_seconds, program, seconds, self_test
from mcp_host._supervise.health import HealthPolicy
from mcp_host._supervise.manifest import SelfTestSpec, ServerSpec, discover_manifests, load_manifest, load_manifests
from mcp_host._supervise.procs import (
    PROC_TAG_VAR,
    ProcResult,
    cancel_on_signal,
    carries_tag,
    is_running,
    kill_tree,
    reap,
    run_process,
    spawn,
    spawn_detached,
    start_time,
    wait_exited,
)
from mcp_host._supervise.proctable import scan_environ
from mcp_host._supervise.qualify import ServerVerdict, qualify_servers, run_self_test
from mcp_host._version import __version__

__all__ = [
    "AGENT_FILE_LIMIT_BYTES",
    "HARNESS_DIR",
    "MANIFESTS_DIR",
    "PROC_TAG_VAR",
    "BridgeOptions",
    "CallRecord",
    "CallSummary",
    "CallTail",
    "DurationError",
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
    "__version__",
    "call_tool",
    "calls_offset",
    "calls_path",
    "cancel_on_signal",
    "carries_tag",
    "discover_manifests",
    "harness_dir",
    "host_dir",
    "host_may_hold",
    "is_running",
    "is_secret_name",
    "kill_tree",
    "list_tools",
    "load_manifest",
    "load_manifests",
    "parse_seconds",
    "program",
    "qualify_servers",
    "read_active_servers",
    "read_regular",
    "reap",
    "run_bridge",
    "run_host",
    "run_process",
    "run_self_test",
    "scan_environ",
    "scrubbed_env",
    "seconds",
    "self_test",
    "spawn",
    "spawn_detached",
    "start_time",
    "summarize_calls",
    "wait_exited",
    "write_active_servers",
    "write_atomic",
]
