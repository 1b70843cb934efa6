"""The workspace's harness folder: its creation, the registry, artifact discovery, and the copies that
qualification and task-state reset need."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Collection, Iterable
from pathlib import Path

from harnessgym.artifacts.registry import ArtifactEntry, Registry, parse_registry
from harnessgym.errors import WorkspaceError, WorkspaceNotWritableError
from harnessgym.records import utcnow
from harnessgym.store.files import load_json, read_regular, write_atomic, write_model
from harnessgym.store.ignore import Skip, read_ignore_rules
from harnessgym.store.layout import ARTIFACT_DIRS, HARNESS_DIR, KIND_DIRS, Layout
from harnessgym.store.tree import CopyStats, copy_tree
from mcp_host import open_regular

__all__ = [
    "Identity",
    "artifact_digest",
    "artifact_root",
    "capture_template",
    "copy_bundle",
    "copy_usable_artifacts",
    "discover_artifacts",
    "ensure_workspace",
    "files_identity",
    "fresh_copy",
    "ignore_for_template",
    "ignore_special",
    "is_inside",
    "read_registry",
    "restore_task_state",
    "settled",
    "snapshot_task_state",
    "sync_registry",
    "write_registry",
]

TEMPLATE_EXCLUDED_NAMES = frozenset(
    {".agents", ".claude", ".codex", ".git", HARNESS_DIR, ".harnessgym_build", ".pytest_cache", "__pycache__"}
)
TEMPLATE_EXCLUDED_SUFFIXES = (".o", ".pyc", ".pyo", ".so", ".dylib")
MCP_MANIFEST_NAMES = ("harnessgym-mcp.json", "mcp.json", "server.json")


def ensure_workspace(workspace: Path) -> Layout:
    """Check the workspace can be used and create ``.harnessgym`` and its artifact folders."""
    if not workspace.exists():
        raise WorkspaceError(workspace, f"workspace {workspace} does not exist; create it or choose another workspace")
    if not workspace.is_dir():
        raise WorkspaceError(workspace, f"workspace {workspace} is not a directory; choose a directory instead")
    layout = Layout(workspace)
    try:
        for name in ARTIFACT_DIRS:
            (layout.root / name).mkdir(parents=True, exist_ok=True)
        layout.runs.mkdir(exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe.", dir=layout.root)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise WorkspaceNotWritableError(workspace, exc.strerror or str(exc)) from exc
    return layout


_KEEP_WORKSPACES = 8
_PARSED: dict[Path, tuple[bytes, str, tuple[str, ...]]] = {}
"""Per workspace: the bytes registry.json last held, what they parsed to (as JSON) and the problems found.
Keyed by content, never by what the file claims: a read with other bytes parses them."""


def read_registry(layout: Layout) -> tuple[Registry, list[str]]:
    """The registry as it stands (leniently: what the agent wrote becomes problems, never an exception).

    The file is read every time (bounded, a regular file only); it is parsed again only when its bytes differ
    from the last ones read for this workspace, which the phases of a run mostly re-read unchanged."""
    consequence = "it is kept as registry.unreadable.json and a new registry was started"
    try:
        raw: bytes | None = read_regular(layout.registry)
    except OSError:
        raw = None  # load_json reads again and says why
    cached = _PARSED.get(layout.workspace)
    if raw is not None and cached is not None and cached[0] == raw:
        return Registry.model_validate_json(cached[1]), list(cached[2])
    data, problems = load_json(layout.registry, "registry.json", consequence, raw=raw)
    if data is None:
        missing = not layout.registry.exists()
        return Registry(), [] if missing else problems
    registry, more = parse_registry(data, layout.workspace)
    if raw is not None:
        _remember(layout, raw, registry.model_dump_json(), tuple(problems + more))
    return registry, problems + more


def write_registry(layout: Layout, registry: Registry) -> None:
    """Write the registry; a registry.json that could not be read is first kept as registry.unreadable.json."""
    registry.updated_at = utcnow().isoformat()
    if layout.registry.exists() or layout.registry.is_symlink():
        data, _ = load_json(layout.registry, "registry.json", "")
        if not isinstance(data, dict):
            os.replace(layout.registry, layout.registry_unreadable)
    text = write_model(layout.registry, registry)
    if _reads_back_as_written(registry):  # the next read of these bytes needs no parse (phases re-read it)
        _remember(layout, text.encode("utf-8"), text, ())


def _remember(layout: Layout, raw: bytes, parsed: str, problems: tuple[str, ...]) -> None:
    _PARSED.pop(layout.workspace, None)
    while len(_PARSED) >= _KEEP_WORKSPACES:  # a long-lived process (serve) meets many workspaces
        del _PARSED[next(iter(_PARSED))]
    _PARSED[layout.workspace] = (raw, parsed, problems)


def _reads_back_as_written(registry: Registry) -> bool:
    """Whether :func:`parse_registry` of what :func:`write_registry` wrote gives ``registry`` back, no problem
    found: what it would change (a second entry of one id, an empty string it reads as none, a path it would
    normalize, a qualification kept in the metadata) is checked here, and anything else is parsed again."""
    seen: set[str] = set()
    for entry in registry.artifacts:
        if not entry.id or entry.id in seen or entry.created_at == "" or entry.quarantine_reason == "":
            return False
        if (entry.qualification is None and "qualification" in entry.metadata) or isinstance(entry.iteration, bool):
            return False
        path = entry.path
        if path != path.strip() or "\0" in path or len(path) > 1024 or path.startswith("/"):
            return False
        if any(part in ("", ".", "..") or len(part) > 63 for part in path.split("/")):
            return False
        seen.add(entry.id)
    return True


def _artifact_files(root: Path, workspace: Path) -> Iterable[Path]:
    """Regular files under ``root``; a symlink counts only when it stays inside ``workspace``.

    What ``sorted(root.rglob("*"))`` would list, in its order (the order a folder's digest reads them in), from
    one ``scandir`` per folder: linked folders are not entered, bytecode is left out."""
    return (Path(path) for path, _ in _artifact_names(root, workspace))


def _artifact_names(root: Path, workspace: Path) -> list[tuple[str, tuple[str, ...]]]:
    """:func:`_artifact_files` as (full path, names below ``root``), without a Path per file."""
    found: list[tuple[tuple[str, ...], str, bool]] = []
    pending: list[tuple[str, tuple[str, ...]]] = [(os.fspath(root), ())]
    cache_dir = "__pycache__" in root.parts
    while pending:
        folder, parts = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            names = (*parts, entry.name)
            try:
                link = entry.is_symlink()
                if entry.is_dir() and not link:
                    pending.append((entry.path, names))
                usable = entry.is_file()
            except OSError:
                continue
            if usable and not cache_dir and "__pycache__" not in names:
                if os.path.splitext(entry.name)[1] not in (".pyc", ".pyo"):
                    found.append((names, entry.path, link))
    return [(path, names) for names, path, link in sorted(found) if not link or is_inside(workspace, Path(path))]


def discover_artifacts(layout: Layout) -> list[tuple[str, str]]:
    """(kind, relative path) of every artifact file in the artifact folders, as upstream registers them."""
    found: list[tuple[str, str]] = []
    for kind, dirname in KIND_DIRS.items():
        root = layout.root / dirname
        if not root.is_dir() or not is_inside(layout.workspace, root):
            continue
        # Named by strings, without a Path per file: a folder may hold many one-file artifacts.
        files = [names for _, names in _artifact_names(root, layout.workspace)]
        if kind == "skill":
            files = [names for names in files if names[-1] == "SKILL.md"]
        elif kind == "mcp":
            by_dir: dict[tuple[str, ...], tuple[str, ...]] = {}
            for names in files:
                if names[-1] in MCP_MANIFEST_NAMES:
                    best = by_dir.get(names[:-1])
                    if best is None or MCP_MANIFEST_NAMES.index(names[-1]) < MCP_MANIFEST_NAMES.index(best[-1]):
                        by_dir[names[:-1]] = names
            files = sorted(by_dir.values())
        base = root.relative_to(layout.workspace).as_posix()
        found.extend((kind, "/".join((base, *names))) for names in files)
    return found


def sync_registry(layout: Layout, registry: Registry, iteration: int | None) -> list[str]:
    """Add artifact files nobody registered; drop entries whose files are gone. Returns what changed."""
    notes: list[str] = []
    kept: list[ArtifactEntry] = []
    top = os.fspath(layout.workspace)
    for entry in registry.artifacts:
        if os.path.exists(os.path.join(top, entry.path)):
            kept.append(entry)
        else:
            notes.append(f"artifact {entry.id!r} was deleted ({entry.path} is gone); it left the registry")
    registry.artifacts = kept
    known = {e.path for e in kept} | {str(Path(e.path).parent / "SKILL.md") for e in kept if e.kind == "skill"}
    for kind, rel in discover_artifacts(layout):
        if rel in known or os.path.dirname(rel) in known:
            continue
        parsed, _ = parse_registry({"schema_version": 1, "artifacts": [{"kind": kind, "path": rel}]}, layout.workspace)
        new = parsed.artifacts[0]
        new.iteration = iteration
        new.created_at = utcnow().isoformat()
        new.metadata["source"] = "discovered"
        registry.artifacts.append(new)
        notes.append(f"artifact {new.id!r} was found on disk without a registry entry; it was registered")
    return notes


def artifact_root(layout: Layout, entry: ArtifactEntry) -> Path:
    """The file or folder that makes up an artifact: a skill's or MCP server's folder, else the file itself."""
    path = layout.workspace / entry.path
    if entry.kind in ("skill", "mcp") and path.is_file():
        return path.parent
    return path


Identity = tuple[tuple[str, int, int, int, int, int, int], ...]
_DIGESTS: dict[str, tuple[Identity, int, str, Identity | None]] = {}
"""Per artifact root: the identity of every file it held (as harnessgym measured it: name, device, inode,
size, mode, mtime and ctime), when that was measured, and the digest then read. Never what the workspace says."""
_RACY_NS = 100_000_000
"""A file changed this close to the measurement may change again within the file system's clock tick
(timestamps are coarse) without its identity showing it: it is read again, as git treats a racily clean file."""
_KEEP_DIGESTS = 100_000


def files_identity(root: Path | None, files: list[Path]) -> Identity | None:
    """What harnessgym measures of ``files`` (named relative to ``root``'s folder, or in full), or None when
    one is gone."""
    out = []
    for path in files:
        try:
            st = os.stat(path)  # what is read: the file at the end of any link
            link = os.lstat(path)  # and the link itself (a link retargeted to a twin is a change)
        except OSError:
            return None
        name = path.relative_to(root.parent).as_posix() if root is not None else str(path)
        out.append((name, st.st_dev, st.st_ino, st.st_size, st.st_mode, st.st_mtime_ns, st.st_ctime_ns))
        if link.st_ino != st.st_ino:
            out.append((name, link.st_dev, link.st_ino, link.st_size, link.st_mode, link.st_mtime_ns,
                        link.st_ctime_ns))  # fmt: skip
    return tuple(out)


def settled(identity: Identity, measured_at: int) -> bool:
    """Whether every file of ``identity`` was last changed well before ``measured_at`` (``time.time_ns()``)."""
    return all(f[6] < measured_at - _RACY_NS for f in identity if f[4] and not stat.S_ISDIR(f[4]))


def _plain_file(top: str, path: str) -> Identity | None:
    """For a regular file (no link) under folders that are no links, up to ``top`` (the workspace): the identity of the
    file and of every one of those folders, which shows any change that could make it resolve elsewhere (a
    folder swapped for a link, or moved); None for anything else (a link, a folder), checked in full."""
    out = []
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            return None
        out.append((path, st.st_dev, st.st_ino, st.st_size, st.st_mode, st.st_mtime_ns, st.st_ctime_ns))
        while path != top:
            parent = os.path.dirname(path)
            if parent == path:
                return None  # not under the workspace at all
            path = parent
            st = os.lstat(path)
            if not stat.S_ISDIR(st.st_mode):
                return None
            out.append((path, st.st_dev, st.st_ino, 0, st.st_mode, 0, 0))
    except OSError:
        return None
    return tuple(out)


def artifact_digest(layout: Layout, entry: ArtifactEntry) -> str | None:
    """The sha256 of an artifact's file(s) as they stand; None when it has none (or leads outside).

    Read once per content: a digest is kept with the identity (inode, size, mtime and ctime of every file)
    measured before it was read, and read again whenever any of that differs. ctime changes on every write,
    even one that puts the size and mtime back, and on every ``utime``. A plain file (the common case) also
    keeps the identity of its folders up to the workspace, so a check that it is still inside costs a few
    ``lstat`` calls rather than resolving its path."""
    top = os.fspath(layout.workspace)
    # A file artifact is named without building a Path: this is asked per entry, several times an iteration.
    root = artifact_root(layout, entry) if entry.kind in ("skill", "mcp") else None
    key = os.fspath(root) if root is not None else os.path.join(top, entry.path)
    kept = _DIGESTS.get(key)
    if kept is not None and kept[3] is not None:
        plain = _plain_file(top, key)
        if plain is not None and plain == kept[3] and settled(plain[:1], kept[1]):
            return kept[2]
    root = root if root is not None else Path(key)
    measured_at = time.time_ns()
    plain = _plain_file(top, key)
    if plain is None and not is_inside(layout.workspace, root):  # a plain file is inside: no link on its way
        return None
    if plain is not None:
        files = [root]
    else:
        files = [root] if root.is_file() else list(_artifact_files(root, layout.workspace)) if root.is_dir() else []
    if not files:
        return None
    identity = files_identity(root, files)
    if identity is not None and kept is not None and kept[0] == identity and settled(identity, kept[1]):
        value = kept[2]
    else:
        value = _read_digest(root, files)
        if identity is None:
            return value
    if len(_DIGESTS) >= _KEEP_DIGESTS:
        _DIGESTS.clear()
    _DIGESTS[key] = (identity, measured_at, value, plain)
    return value


def _read_digest(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root.parent).as_posix().encode())
        try:  # as a stream, a regular file only: a huge (sparse) file costs time, never memory; a FIFO nothing
            fd = open_regular(path.resolve())
        except (OSError, RuntimeError):
            continue
        with os.fdopen(fd, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


# -- copies ----------------------------------------------------------------------------------------------


def ignore_special(directory: str, names: list[str]) -> set[str]:
    """FIFOs, sockets and devices under ``directory``: a copy skips them (copying a FIFO fails, reading one blocks).
    Symlinks are kept, as links."""
    special: set[str] = set()
    for name in names:
        try:
            mode = os.lstat(os.path.join(directory, name)).st_mode
        except OSError:
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            special.add(name)
    return special


def ignore_for_template(directory: str, names: list[str]) -> set[str]:
    excluded = {n for n in names if n in TEMPLATE_EXCLUDED_NAMES or n.endswith(TEMPLATE_EXCLUDED_SUFFIXES)}
    return excluded | ignore_special(directory, [n for n in names if n not in excluded])


def template_skip(workspace: Path) -> Skip:
    """What a copy of ``workspace`` for a clean template leaves out: harness, caches, VCS, binaries, special
    files, and what the workspace's ``.harnessgymignore`` names."""
    rules = read_ignore_rules(workspace)
    return lambda directory, names: ignore_for_template(directory, names) | rules(directory, names)


def capture_template(layout: Layout, run_id: str) -> Path:
    """Copy the pre-run workspace (no harness, caches, VCS or binaries) as the run's clean template, and list
    what it left out in ``ignored.txt`` beside it."""
    target = layout.run(run_id).template
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    stats = CopyStats()
    copy_tree(layout.workspace, target, skip=template_skip(layout.workspace), stats=stats)
    listing = "\n".join(p for p in stats.left_out if p != HARNESS_DIR)
    write_atomic(target.with_name("ignored.txt"), listing + "\n" if listing else "")
    return target


def copy_bundle(layout: Layout, dest_workspace: Path) -> None:
    """Copy the artifact folders and registry.json into another workspace's ``.harnessgym``."""
    dest = Layout(dest_workspace)
    dest.root.mkdir(parents=True, exist_ok=True)
    for name in ARTIFACT_DIRS:
        src = layout.root / name
        if src.is_dir() and not src.is_symlink():  # a linked folder would copy whatever it points at
            shutil.copytree(src, dest.root / name, symlinks=True, dirs_exist_ok=True, ignore=ignore_special)
    if layout.registry.is_file() and not layout.registry.is_symlink():
        shutil.copy2(layout.registry, dest.registry)


_BYTECODE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


def _ignore_for_artifacts(directory: str, names: list[str]) -> set[str]:
    return _BYTECODE(directory, names) | ignore_special(directory, names)


def is_inside(workspace: Path, path: Path) -> bool:
    """Whether ``path``, every symlink followed, stays inside ``workspace`` (a loop or a bad name does not)."""
    try:
        return path.resolve().is_relative_to(workspace.resolve())
    except (OSError, RuntimeError, ValueError):
        return False


def copy_usable_artifacts(
    source: Layout, dest_workspace: Path, *, exclude: Collection[str] = ()
) -> tuple[list[ArtifactEntry], list[str]]:
    """Copy the source's non-quarantined artifacts, and a registry of just them, into another workspace.

    Returns the entries copied and the problems found in the source registry. Quarantined artifacts, those
    whose id is in ``exclude`` (a leave-one-out comparison arm) and files nobody registered stay behind."""
    registry, problems = read_registry(source)
    dest = Layout(dest_workspace)
    kept = [e for e in registry.artifacts if e.state != "quarantined" and e.id not in exclude]
    copied: list[ArtifactEntry] = []
    for entry in kept:
        root = artifact_root(source, entry)
        target = dest.workspace / root.relative_to(source.workspace)
        if not root.exists():
            problems.append(f"artifact {entry.id!r} is registered but {entry.path} is missing; it was not copied")
            continue
        if not is_inside(source.workspace, root):
            problems.append(f"artifact {entry.id!r} ({entry.path}) leads outside the workspace through a symlink; "
                            "it was not copied")  # fmt: skip
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if root.is_dir():
            shutil.copytree(root, target, symlinks=True, dirs_exist_ok=True, ignore=_ignore_for_artifacts)
        elif root.is_file():
            shutil.copy2(root, target)
        else:
            problems.append(f"artifact {entry.id!r} ({entry.path}) is not a regular file; it was not copied")
            continue
        copied.append(entry)
    kept = copied
    write_registry(dest, Registry(artifacts=kept, metadata=registry.metadata))
    return kept, problems


def fresh_copy(template: Path, dest: Path) -> None:
    """A writable copy of ``template`` (never sharing an inode with it: what runs there is the agent's code)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    copy_tree(template, dest)


def snapshot_task_state(layout: Layout, link_from: Path | None = None) -> None:
    """``--task-state reset``: remember the workspace (everything but ``.harnessgym``) once per workspace.

    ``link_from``: the run's clean template, just captured; files it holds unchanged are hard-linked from it
    rather than copied again (both are harnessgym's own read-only snapshots; restoring copies out of them).
    """
    if layout.task_state.exists():
        return
    tmp = layout.task_state.with_name("initial.partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    copy_tree(layout.workspace, tmp, (HARNESS_DIR,), link_from=link_from)
    os.replace(tmp, layout.task_state)


def restore_task_state(layout: Layout) -> None:
    """Put the remembered workspace back (``.harnessgym`` is left alone)."""
    if not layout.task_state.is_dir():
        return
    for child in layout.workspace.iterdir():
        if child.name == HARNESS_DIR:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    # The remembered copy lives where the agent can write; a .harnessgym in it must not overwrite the real one.
    # Copied, never linked: the agent writes the restored files.
    copy_tree(layout.task_state, layout.workspace, (HARNESS_DIR,))
