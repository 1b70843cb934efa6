"""MCP-server artifacts: qualifying and activating them through :mod:`mcp_host`.

mcp_host is imported inside the functions (it pulls in the MCP SDK, which ``harnessgym --help`` must not
pay for). Should it be unavailable, MCP artifacts are skipped with a recorded warning: they stay candidates
and are never handed to an agent unqualified.

A server is activated only while harnessgym's own verdict store (outside the workspace) holds a pass for its
content as it stands, and only when its manifest, working directory and self-test stay inside the workspace
(the checks other kinds get): a symlink to another workspace's server is never served.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harnessgym import store
from harnessgym.artifacts.registry import ArtifactEntry, ArtifactVerdict, McpActivation

if TYPE_CHECKING:
    from mcp_host import CallTail, ServerSpec, ServerVerdict, VerdictStore

__all__ = [
    "activate_servers",
    "call_tail",
    "calls_by_iteration",
    "calls_offset",
    "qualify_mcp",
    "server_passed",
    "trust_server",
]


def _skipped(entries: Sequence[ArtifactEntry], why: str) -> list[ArtifactVerdict]:
    return [ArtifactVerdict(artifact_id=e.id, kind="mcp", path=e.path, status="skipped", message=why) for e in entries]


def outside_problem(workspace: Path, entry: ArtifactEntry, spec: ServerSpec) -> str | None:
    """Why ``spec`` reaches outside ``workspace`` (a manifest, cwd or self-test behind a symlink), or None."""
    checks = [("its manifest", workspace / entry.path), ("its manifest", spec.manifest_path), ("its cwd", spec.cwd)]
    if spec.self_test is not None:
        checks.append(("its self-test's cwd", spec.self_test.cwd))
    for what, path in checks:
        if not store.is_inside(workspace, path):
            return (f"MCP artifact {entry.id!r}: {what} ({path}) leads outside the workspace; artifacts must "
                    "live inside it")  # fmt: skip
    return None


_LOADED: dict[tuple[Path, str, str], tuple[store.Identity, int, ServerSpec]] = {}
"""Per manifest: what harnessgym measured of the files its digest covers, when, and the spec then loaded."""
_MAX_FILES = 2000


def _measured(workspace: Path, manifest: Path, spec: ServerSpec | None) -> store.Identity | None:
    """The identity of every file a server's digest covers: its folder (unless that is the workspace) and the
    files its command line and self-test name (those of ``spec``, the one loaded before)."""
    folder = manifest.parent
    files = [manifest]
    if folder != workspace:
        files = []
        for path in sorted(folder.rglob("*")):
            if len(files) > _MAX_FILES:
                return None  # a folder this big is digested in full every time
            if "__pycache__" not in path.parts and path.is_file():
                files.append(path)
    if spec is not None:
        for arg in (spec.command, *spec.args, *(spec.self_test.argv if spec.self_test else ())):
            candidate = Path(arg) if Path(arg).is_absolute() else spec.cwd / arg
            try:
                if arg and not arg.startswith("-") and candidate.is_file():
                    files.append(candidate)
            except OSError:
                continue
    return store.files_identity(None, files)


def _load(workspace: Path, entry: ArtifactEntry) -> ServerSpec | str:
    """The server ``entry`` names, as it stands; loaded (and digested) once per content: again whenever a file
    its digest covers shows another inode, size, mtime or ctime."""
    from mcp_host import ManifestError, load_manifest

    manifest = workspace / entry.path
    key = (workspace, entry.path, os.environ.get("PATH", ""))
    kept = _LOADED.get(key)
    if kept is not None:
        now = _measured(workspace, manifest, kept[2])
        if now is not None and now == kept[0] and store.settled(now, kept[1]):
            return outside_problem(workspace, entry, kept[2]) or kept[2]
    measured_at = time.time_ns()
    before = _measured(workspace, manifest, None)
    try:
        spec = load_manifest(manifest, workspace)
    except ManifestError as exc:
        return f"invalid manifest: {exc}"
    identity = _measured(workspace, manifest, spec) if before is not None else None
    if identity is not None and identity[: len(before or ())] == before:
        if len(_LOADED) >= 10_000:
            _LOADED.clear()
        _LOADED[key] = (identity, measured_at, spec)
    return outside_problem(workspace, entry, spec) or spec


NO_SELF_TEST_NOTE = ("its manifest declares no self_test; it qualified on its smoke test (initialize and "
                     "tools/list); --require-self-tests makes a self-test required")  # fmt: skip


def _without_self_test(result: ServerVerdict, verdicts_of: Path, require: bool) -> ServerVerdict:
    """``result`` under the self-test rule: a server that declares none passes on its smoke test (a note says
    so, and the pass is kept like any other) unless the user requires self-tests, when it fails (a cached pass
    from a run that did not require them included)."""
    if result.self_test_status != "not_configured":
        return result
    if require:
        why = "no self_test is configured in the manifest; --require-self-tests makes a self-test required to qualify"
        return result.model_copy(update={"status": "failed", "message": why})
    if result.status == "passed" or result.smoke_status != "passed" or not result.tools:
        return result
    from mcp_host import StateDirError, VerdictStore

    passed = result.model_copy(update={"status": "passed", "message": f"{len(result.tools)} tool(s); smoke check "
                                       f"passed; {NO_SELF_TEST_NOTE}"})  # fmt: skip
    if passed.digest:
        try:  # as mcp_host keeps its passes: the host reads the framing and the tool list back from it
            VerdictStore(verdicts_of).put("server", passed.digest, passed.model_dump(mode="json"))
        except (OSError, ValueError, StateDirError):
            pass  # a cache that cannot be written only costs a re-check
    return passed


async def qualify_mcp(
    entries: Sequence[ArtifactEntry],
    workspace: Path,
    verdicts_of: Path | None = None,
    pass_env: Sequence[str] = (),
    *,
    require_self_tests: bool = False,
) -> list[ArtifactVerdict]:
    """Smoke-test and self-test each MCP artifact as it stands in ``workspace`` (a clean copy); passes are kept
    in the verdicts of ``verdicts_of`` (the workspace the copy was made for). A server without a self-test
    passes on its smoke test with a note, unless ``require_self_tests``."""
    if not entries:
        return []
    try:
        from mcp_host import qualify_servers
    except ImportError as exc:
        return _skipped(entries, f"MCP artifacts were skipped: mcp_host cannot qualify servers ({exc})")
    verdicts: dict[str, ArtifactVerdict] = {}
    specs: list[tuple[ArtifactEntry, ServerSpec]] = []
    for entry in entries:
        loaded = _load(workspace, entry)
        if isinstance(loaded, str):
            verdicts[entry.id] = ArtifactVerdict(artifact_id=entry.id, kind="mcp", path=entry.path, status="failed",
                                                 checks=["manifest"], message=loaded)  # fmt: skip
        else:
            specs.append((entry, loaded))
    if specs:
        results = await qualify_servers(
            [s for _, s in specs], workspace=workspace, verdicts_of=verdicts_of, pass_env=pass_env
        )
        for (entry, spec), raw in zip(specs, results, strict=True):
            result = _without_self_test(raw, verdicts_of or workspace, require_self_tests)
            verdicts[entry.id] = ArtifactVerdict(
                artifact_id=entry.id,
                kind="mcp",
                path=entry.path,
                status=result.status,
                checks=["manifest", f"mcp_smoke:{result.smoke_status}", f"mcp_self_test:{result.self_test_status}"],
                message=result.message,
                tools=list(result.tools),
                digest=spec.digest or None,
            )
    return [verdicts[e.id] for e in entries]


def server_passed(workspace: Path, entry: ArtifactEntry, verdicts: VerdictStore) -> bool:
    """Whether harnessgym's qualification passed the server ``entry`` names, as it stands in ``workspace``."""
    try:
        loaded = _load(workspace, entry)
    except ImportError:
        return False
    return not isinstance(loaded, str) and verdicts.passed("server", loaded.digest) is not None


def trust_server(workspace: Path, entry: ArtifactEntry, verdicts: VerdictStore, reason: str) -> None:
    """Record a pass for the server as it stands, because the user vouched for it (``reason``)."""
    loaded = _load(workspace, entry)
    if not isinstance(loaded, str) and loaded.digest:
        verdicts.put("server", loaded.digest, {"status": "passed", "name": loaded.name, "message": reason})


def activate_servers(workspace: Path, entries: Sequence[ArtifactEntry]) -> tuple[list[McpActivation], list[str]]:
    """Tell the host which servers to serve (none when ``entries`` is empty); returns them and warnings.

    Only servers with a pass in harnessgym's verdict store for their current content are activated."""
    try:
        from mcp_host import VerdictStore, write_active_servers
    except ImportError as exc:
        return [], [f"MCP servers were not activated: mcp_host is unavailable ({exc})"] if entries else []
    verdicts = VerdictStore(workspace)
    active: list[McpActivation] = []
    specs: list[ServerSpec] = []
    warnings: list[str] = []
    for entry in entries:
        loaded = _load(workspace, entry)
        if isinstance(loaded, str):
            warnings.append(f"MCP artifact {entry.id!r} was not activated: {loaded}")
            continue
        if verdicts.passed("server", loaded.digest) is None:
            warnings.append(f"MCP artifact {entry.id!r} was not activated: harnessgym has no passing verdict for "
                            "its current content; it needs qualification")  # fmt: skip
            continue
        specs.append(loaded)
        active.append(McpActivation(artifact_id=entry.id, name=loaded.name, manifest_path=loaded.manifest_path,
                                    digest=loaded.digest or None, artifact_path=entry.path,
                                    enabled_tools=list(loaded.enabled_tools or ())))  # fmt: skip
    write_active_servers(workspace, specs)
    return active, warnings


def calls_offset(workspace: Path) -> int:
    """Where the host's telemetry ends now; :func:`calls_by_iteration` reads only what comes after it."""
    from mcp_host import calls_offset as offset

    return offset(workspace)


def calls_by_iteration(workspace: Path, run_id: str, since: int = 0) -> dict[int, int]:
    """MCP tool calls per iteration of ``run_id`` from the host's telemetry written after offset ``since``."""
    from mcp_host import summarize_calls

    return dict(summarize_calls(workspace, run_id, since=since).by_iteration)


def call_tail(workspace: Path) -> CallTail | None:
    """A reader of the calls the host records from now on (None when mcp_host is unavailable)."""
    try:
        from mcp_host import CallTail
    except ImportError:
        return None
    return CallTail(workspace)
