"""Supervise, frame, route and record the MCP servers agents write; serve them as one MCP endpoint.

``mcp_host`` knows nothing of agents or iterations and imports nothing from ``harnessgym`` or ``runners``.

* :func:`load_manifest` / :func:`load_manifests` read upstream-style manifests into :class:`ServerSpec`.
* :func:`qualify_servers` smoke-checks and self-tests servers concurrently (verdicts cached by digest).
* :class:`VerdictStore` keeps harnessgym's verdicts and the active set outside the workspace.
* :func:`write_active_servers` sets what a running host serves; :func:`run_host` is the host itself.
* :func:`summarize_calls` counts the per-call telemetry.
* :class:`VerdictStore` keeps harnessgym's verdicts and the active set outside the workspace.
* :func:`parse_seconds` is the duration grammar, :func:`write_atomic` the atomic write,
  :func:`cancel_on_signal` turns SIGTERM/SIGINT into a cancellation, :func:`scan_environ` finds processes by
  the marker variables they inherited: the one copy of each for all three packages.
* :func:`call_tool` / :func:`list_tools` reach a running host (``harnessgym mcp call``); :func:`run_bridge`
  wraps one server (``harnessgym mcp bridge``).

Errors: see :mod:`mcp_host._errors` for the tree.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: `mcp call` must not pay for importing typing

if TYPE_CHECKING:
    from typing import Any

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
        open_regular,
        read_regular,
        socket_path,
        write_atomic,
    )
    from mcp_host._serve.active import needs_qualification, read_active_servers, write_active_servers
    from mcp_host._serve.bridge import BridgeOptions, run_bridge
    from mcp_host._serve.callclient import call_tool, list_tools
    from mcp_host._serve.connect import CONNECT_SCRIPT
    from mcp_host._serve.host import HostOptions, run_host
    from mcp_host._serve.quickcall import quick_call
    from mcp_host._serve.telemetry import CallRecord, CallSummary, CallTail, RunTag, calls_offset, summarize_calls
    from mcp_host._supervise.env import host_env, host_may_hold, is_secret_name, scrubbed_env
    from mcp_host._supervise.fields import parse_seconds, program, seconds, self_test
    from mcp_host._supervise.health import HealthPolicy
    from mcp_host._supervise.manifest import SelfTestSpec, ServerSpec, discover_manifests, load_manifest, load_manifests
    from mcp_host._supervise.procs import (
        PROC_TAG_VAR,
        STOP_SIGNALS,
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
        sweep_tagged,
        wait_exited,
    )
    from mcp_host._supervise.proctable import scan_environ
    from mcp_host._supervise.qualify import ServerVerdict, qualify_servers, run_self_test
    from mcp_host._supervise.trust import STATE_DIR_VAR, StateDirError, VerdictStore, state_dir
    from mcp_host._version import __version__

__all__ = [
    "AGENT_FILE_LIMIT_BYTES",
    "CONNECT_SCRIPT",
    "HARNESS_DIR",
    "MANIFESTS_DIR",
    "PROC_TAG_VAR",
    "STATE_DIR_VAR",
    "STOP_SIGNALS",
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
    "StateDirError",
    "VerdictStore",
    "__version__",
    "call_tool",
    "calls_offset",
    "calls_path",
    "cancel_on_signal",
    "carries_tag",
    "discover_manifests",
    "harness_dir",
    "host_dir",
    "host_env",
    "host_may_hold",
    "is_running",
    "is_secret_name",
    "kill_tree",
    "list_tools",
    "load_manifest",
    "load_manifests",
    "needs_qualification",
    "open_regular",
    "parse_seconds",
    "program",
    "qualify_servers",
    "quick_call",
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
    "socket_path",
    "spawn",
    "spawn_detached",
    "start_time",
    "state_dir",
    "summarize_calls",
    "sweep_tagged",
    "wait_exited",
    "write_active_servers",
    "write_atomic",
]

_HOME: dict[str, tuple[str, str]] = {
    "open_regular": ("mcp_host._paths", "open_regular"),
    "socket_path": ("mcp_host._paths", "socket_path"),
    "needs_qualification": ("mcp_host._serve.active", "needs_qualification"),
    "CONNECT_SCRIPT": ("mcp_host._serve.connect", "CONNECT_SCRIPT"),
    "host_env": ("mcp_host._supervise.env", "host_env"),
    "STATE_DIR_VAR": ("mcp_host._supervise.trust", "STATE_DIR_VAR"),
    "StateDirError": ("mcp_host._supervise.trust", "StateDirError"),
    "VerdictStore": ("mcp_host._supervise.trust", "VerdictStore"),
    "state_dir": ("mcp_host._supervise.trust", "state_dir"),
    "AGENT_FILE_LIMIT_BYTES": ("mcp_host._paths", "AGENT_FILE_LIMIT_BYTES"),
    "BridgeOptions": ("mcp_host._serve.bridge", "BridgeOptions"),
    "CallRecord": ("mcp_host._serve.telemetry", "CallRecord"),
    "CallSummary": ("mcp_host._serve.telemetry", "CallSummary"),
    "CallTail": ("mcp_host._serve.telemetry", "CallTail"),
    "DurationError": ("mcp_host._errors", "DurationError"),
    "FramingError": ("mcp_host._errors", "FramingError"),
    "HARNESS_DIR": ("mcp_host._paths", "HARNESS_DIR"),
    "HealthPolicy": ("mcp_host._supervise.health", "HealthPolicy"),
    "HostOptions": ("mcp_host._serve.host", "HostOptions"),
    "HostUnavailableError": ("mcp_host._errors", "HostUnavailableError"),
    "MANIFESTS_DIR": ("mcp_host._paths", "MANIFESTS_DIR"),
    "MCPHostError": ("mcp_host._errors", "MCPHostError"),
    "ManifestError": ("mcp_host._errors", "ManifestError"),
    "MessageTooLargeError": ("mcp_host._errors", "MessageTooLargeError"),
    "PROC_TAG_VAR": ("mcp_host._supervise.procs", "PROC_TAG_VAR"),
    "STOP_SIGNALS": ("mcp_host._supervise.procs", "STOP_SIGNALS"),
    "ProcResult": ("mcp_host._supervise.procs", "ProcResult"),
    "RunTag": ("mcp_host._serve.telemetry", "RunTag"),
    "SelfTestSpec": ("mcp_host._supervise.manifest", "SelfTestSpec"),
    "ServerCrashedError": ("mcp_host._errors", "ServerCrashedError"),
    "ServerError": ("mcp_host._errors", "ServerError"),
    "ServerSpec": ("mcp_host._supervise.manifest", "ServerSpec"),
    "ServerStartError": ("mcp_host._errors", "ServerStartError"),
    "ServerTimeoutError": ("mcp_host._errors", "ServerTimeoutError"),
    "ServerVerdict": ("mcp_host._supervise.qualify", "ServerVerdict"),
    "__version__": ("mcp_host._version", "__version__"),
    "call_tool": ("mcp_host._serve.callclient", "call_tool"),
    "calls_offset": ("mcp_host._serve.telemetry", "calls_offset"),
    "calls_path": ("mcp_host._paths", "calls_path"),
    "cancel_on_signal": ("mcp_host._supervise.procs", "cancel_on_signal"),
    "carries_tag": ("mcp_host._supervise.procs", "carries_tag"),
    "discover_manifests": ("mcp_host._supervise.manifest", "discover_manifests"),
    "harness_dir": ("mcp_host._paths", "harness_dir"),
    "host_dir": ("mcp_host._paths", "host_dir"),
    "host_may_hold": ("mcp_host._supervise.env", "host_may_hold"),
    "is_running": ("mcp_host._supervise.procs", "is_running"),
    "is_secret_name": ("mcp_host._supervise.env", "is_secret_name"),
    "kill_tree": ("mcp_host._supervise.procs", "kill_tree"),
    "list_tools": ("mcp_host._serve.callclient", "list_tools"),
    "load_manifest": ("mcp_host._supervise.manifest", "load_manifest"),
    "load_manifests": ("mcp_host._supervise.manifest", "load_manifests"),
    "parse_seconds": ("mcp_host._supervise.fields", "parse_seconds"),
    "program": ("mcp_host._supervise.fields", "program"),
    "quick_call": ("mcp_host._serve.quickcall", "quick_call"),
    "qualify_servers": ("mcp_host._supervise.qualify", "qualify_servers"),
    "read_active_servers": ("mcp_host._serve.active", "read_active_servers"),
    "read_regular": ("mcp_host._paths", "read_regular"),
    "reap": ("mcp_host._supervise.procs", "reap"),
    "run_bridge": ("mcp_host._serve.bridge", "run_bridge"),
    "run_host": ("mcp_host._serve.host", "run_host"),
    "run_process": ("mcp_host._supervise.procs", "run_process"),
    "run_self_test": ("mcp_host._supervise.qualify", "run_self_test"),
    "scan_environ": ("mcp_host._supervise.proctable", "scan_environ"),
    "scrubbed_env": ("mcp_host._supervise.env", "scrubbed_env"),
    "seconds": ("mcp_host._supervise.fields", "seconds"),
    "self_test": ("mcp_host._supervise.fields", "self_test"),
    "spawn": ("mcp_host._supervise.procs", "spawn"),
    "spawn_detached": ("mcp_host._supervise.procs", "spawn_detached"),
    "start_time": ("mcp_host._supervise.procs", "start_time"),
    "sweep_tagged": ("mcp_host._supervise.procs", "sweep_tagged"),
    "summarize_calls": ("mcp_host._serve.telemetry", "summarize_calls"),
    "wait_exited": ("mcp_host._supervise.procs", "wait_exited"),
    "write_active_servers": ("mcp_host._serve.active", "write_active_servers"),
    "write_atomic": ("mcp_host._paths", "write_atomic"),
}
"""Where each public name lives: loaded on first use, so a command that needs one corner of the package (the
``mcp call`` client, the process helper) does not import all of it (pydantic, the router, the supervisor)."""


def __getattr__(name: str) -> Any:
    try:
        module, attr = _HOME[name]
    except KeyError:
        raise AttributeError(f"module 'mcp_host' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
