"""Read MCP server manifests as upstream HarnessGym 0.1.1 writes them, into a frozen :class:`ServerSpec`.

Accepted files: ``mcp.json`` > ``server.json`` > ``harnessgym-mcp.json`` in a directory (or the ``.json``
path given), optionally wrapped as ``{"mcpServers": {name: {...}}}`` with one entry. Fields:

* ``name`` (default: the directory name), sanitised to ``[A-Za-z0-9_-]`` (else ``harnessgym_mcp``);
* ``command`` (required; ``python``/``python3`` means this interpreter, so the server sees the same
  installed packages as harnessgym), ``args``;
* ``cwd``: default the workspace; relative to the workspace; an absolute cwd other than the workspace is
  rewritten to the workspace when an argument exists relative to it (portable bundles, as upstream);
* ``env`` (merged into the scrubbed environment; secret-named names are dropped with a warning);
* ``framing``: ``auto`` (default), ``newline`` or ``content-length``;
* ``enabled_tools``; timeouts in every upstream spelling (:func:`mcp_host._supervise.fields.timeout`);
* ``self_test`` as ``true``, a string, a list or an object.

A bad manifest raises :class:`~mcp_host._errors.ManifestError` naming the file and the field; so does one that
is not a regular file (a FIFO is never waited on), holds over 1 MiB or JSON nested too deeply, asks for a
timeout that is not a positive number of seconds up to a day, or holds what no program can be started with (a
NUL byte, ``=`` in a variable's name). The spec's ``digest`` covers the manifest's directory and every file the
command line references, so a verdict can be cached until the artifact changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcp_host._errors import ManifestError
from mcp_host._paths import manifests_dir, read_regular
from mcp_host._supervise import fields
from mcp_host._supervise.digest import SKIP_DIRS, BundleTooLargeError, digest
from mcp_host._supervise.env import is_secret_name
from mcp_host._supervise.spec import DEFAULT_SELF_TEST, DEFAULT_STARTUP, DEFAULT_TOOL, SelfTestSpec, ServerSpec

__all__ = [
    "MANIFEST_NAMES",
    "SelfTestSpec",
    "ServerSpec",
    "discover_manifests",
    "load_manifest",
    "load_manifests",
    "sanitize_name",
]

MANIFEST_NAMES = ("mcp.json", "server.json", "harnessgym-mcp.json")
"""Manifest file names, in order of precedence within one directory."""
MAX_MANIFEST_BYTES = 1 << 20
"""A manifest is a few hundred bytes; anything over 1 MiB is refused rather than read into memory."""


def discover_manifests(workspace: Path) -> list[Path]:
    """Every manifest under ``<workspace>/.harnessgym/mcp``: one per directory, by precedence, sorted."""
    root = manifests_dir(workspace)
    if not root.is_dir():
        return []
    found: list[Path] = []
    for directory in sorted({p.parent for name in MANIFEST_NAMES for p in root.rglob(name)}):
        if SKIP_DIRS.intersection(directory.relative_to(root).parts):
            continue
        for name in MANIFEST_NAMES:
            if (directory / name).is_file():
                found.append(directory / name)
                break
    return found


def load_manifests(workspace: Path) -> tuple[list[ServerSpec], list[ManifestError]]:
    """Load every discovered manifest; a bad one is returned as an error and never stops the others."""
    specs: list[ServerSpec] = []
    errors: list[ManifestError] = []
    seen: set[str] = set()
    for path in discover_manifests(workspace):
        try:
            spec = load_manifest(path, workspace)
        except ManifestError as exc:
            errors.append(exc)
            continue
        if spec.name in seen:
            errors.append(ManifestError(path, "name", f"duplicate server name {spec.name!r}; this one is skipped"))
            continue
        seen.add(spec.name)
        specs.append(spec)
    return specs, errors


def load_manifest(path: Path, workspace: Path) -> ServerSpec:
    """Read one manifest (a file, or a directory holding one) into a :class:`ServerSpec`."""
    workspace = workspace.resolve()
    path = _locate(path)
    try:
        raw = json.loads(read_regular(path, MAX_MANIFEST_BYTES).decode("utf-8"))
    except OSError as exc:  # a FIFO, a device or a file over MAX_MANIFEST_BYTES too, never waited on
        raise ManifestError(path, None, f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ManifestError(path, None, "is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(path, None, f"is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ManifestError(path, None, "is JSON nested too deeply to read") from None
    if not isinstance(raw, dict):
        raise ManifestError(path, None, f"must be a JSON object, not {type(raw).__name__}")
    default_name = path.parent.name
    servers = raw.get("mcpServers")
    if isinstance(servers, dict):
        if len(servers) != 1:
            raise ManifestError(path, "mcpServers", f"must hold exactly one server here, found {len(servers)}")
        ((default_name, raw),) = servers.items()
        if not isinstance(raw, dict):
            raise ManifestError(path, f"mcpServers.{default_name}", "must be an object")
    return _spec(path, workspace, raw, str(default_name))


def _locate(path: Path) -> Path:
    if path.is_dir():
        for name in MANIFEST_NAMES:
            if (path / name).is_file():
                return path / name
        raise ManifestError(path, None, f"holds no manifest ({', '.join(MANIFEST_NAMES)})")
    if path.suffix != ".json" and not path.is_file():
        raise ManifestError(path, None, "does not exist")
    if path.suffix != ".json":
        return _locate(path.parent)
    if not path.exists():
        raise ManifestError(path, None, "does not exist")
    return path


def sanitize_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "harnessgym_mcp"


def _spec(path: Path, workspace: Path, raw: Mapping[str, Any], default_name: str) -> ServerSpec:
    warnings: list[str] = []
    name_value = raw.get("name", default_name)
    if not isinstance(name_value, str):
        raise ManifestError(path, "name", "must be a string")
    name = sanitize_name(name_value)
    command_value = raw.get("command")
    if isinstance(command_value, list) and command_value:
        command_list = fields.str_list(path, "command", command_value)
        command, args = command_list[0], command_list[1:]
    elif isinstance(command_value, str) and command_value.strip():
        command, args = command_value, []
    else:
        raise ManifestError(path, "command", "is required: the program that starts the server")
    args += fields.str_list(path, "args", raw.get("args"))
    cwd = _cwd(path, workspace, raw.get("cwd"), args, warnings)
    env_value = raw.get("env") or {}
    if not isinstance(env_value, dict):
        raise ManifestError(path, "env", "must be an object of strings")
    env: dict[str, str] = {}
    for key, value in env_value.items():
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ManifestError(path, f"env.{key}", "must be a string")
        if not key or "=" in key or "\0" in key or "\0" in str(value):
            raise ManifestError(path, f"env.{key}", "is not a valid variable (an empty name, '=' or a NUL byte)")
        if is_secret_name(key):
            warnings.append(f"env {key} was dropped: servers never get secret-named variables")
            continue
        env[key] = str(value)
    pass_env = tuple(fields.str_list(path, "pass_env", raw.get("pass_env")))
    for key in pass_env:
        if not key or "=" in key or "\0" in key:
            raise ManifestError(path, "pass_env", f"{key!r} is not a valid variable name")
    framing = raw.get("framing")
    if framing is None:
        transport = str(raw.get("transport", "")).lower()
        framing = "content-length" if "content-length" in transport else "auto"
    if framing not in ("auto", "newline", "content-length"):
        raise ManifestError(path, "framing", f"must be auto, newline or content-length, got {framing!r}")
    enabled = raw.get("enabled_tools")
    enabled_tools = None if enabled is None else tuple(fields.str_list(path, "enabled_tools", enabled))
    timeouts = raw.get("timeouts") or {}
    if not isinstance(timeouts, dict):
        raise ManifestError(path, "timeouts", "must be an object")
    startup = fields.timeout(
        path,
        raw,
        timeouts,
        ("startup_timeout_sec",),
        ("startup_seconds", "startup_timeout_sec"),
        ("initialize_ms", "startup_ms"),
        DEFAULT_STARTUP,
    )
    tool = fields.timeout(
        path,
        raw,
        timeouts,
        ("tool_timeout_sec",),
        ("tool_seconds", "tool_timeout_sec"),
        ("tool_call_ms", "tool_ms"),
        DEFAULT_TOOL,
    )
    self_test_timeout = fields.timeout(
        path,
        raw,
        timeouts,
        ("self_test_timeout_sec", "test_timeout_sec"),
        ("self_test_seconds", "self_test_timeout_sec"),
        ("self_test_ms", "test_ms"),
        DEFAULT_SELF_TEST,
    )
    program = fields.program(command)
    self_test = fields.self_test(path, workspace, raw.get("self_test"), [program, *args], cwd, self_test_timeout)
    test_argv = self_test.argv if self_test is not None else ()
    for field, value in (("command", command), *(("args", a) for a in args), *(("self_test", a) for a in test_argv)):
        if "\0" in value:  # no program can be started with it
            raise ManifestError(path, field, f"holds a NUL byte: {value[:60]!r}")
    values: dict[str, Any] = {
        "name": name,
        "manifest_path": path.resolve(),
        "command": program,
        "args": tuple(args),
        "cwd": cwd,
        "env": env,
        "pass_env": pass_env,
        "framing": framing,
        "startup_timeout": startup,
        "tool_timeout": tool,
        "self_test": self_test,
        "enabled_tools": enabled_tools,
        "warnings": tuple(warnings),
    }
    spec = ServerSpec(**values)
    try:
        return spec.model_copy(update={"digest": digest(spec, workspace)})
    except BundleTooLargeError as exc:
        raise ManifestError(path, None, str(exc)) from None


def _cwd(path: Path, workspace: Path, value: object, args: list[str], warnings: list[str]) -> Path:
    if value is None or value == "":
        return workspace
    if not isinstance(value, str):
        raise ManifestError(path, "cwd", "must be a string")
    cwd = Path(value)
    if not cwd.is_absolute():
        cwd = workspace / cwd
    elif cwd.resolve() != workspace and any(_exists(workspace / a) for a in args if a and not a.startswith("-")):
        warnings.append(f"cwd {value} was rewritten to the workspace, where the server's files are")
        cwd = workspace
    if not _is_dir(cwd):
        raise ManifestError(path, "cwd", f"{str(cwd)[:200]} is not a directory")
    return cwd.resolve()


def _exists(path: Path) -> bool:
    """Whether ``path`` exists; False for an argument that is no file name at all (ENAMETOOLONG raises)."""
    try:
        return path.exists()
    except OSError:
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False
