"""The artifact registry (``.harnessgym/registry.json``), the activation record and the qualification report.

Agents edit registry.json themselves, so it is read leniently: each entry is checked on its own, and an entry
with a missing field or a path outside the workspace is set aside in ``rejected`` with its reason instead of
breaking the loop. Upstream 0.1.1 registries (``version: 1``, quarantine kept in ``metadata``) are understood.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from harnessgym.records import utcnow
from harnessgym.store.layout import KIND_DIRS, ArtifactKind

__all__ = [
    "ActivationRecord",
    "ArtifactEntry",
    "ArtifactState",
    "ArtifactVerdict",
    "McpActivation",
    "QualificationNote",
    "QualificationReport",
    "Registry",
    "RejectedEntry",
    "SkillActivation",
    "parse_registry",
]

ArtifactState = Literal["candidate", "qualified", "active", "quarantined"]
_KIND_ALIASES: dict[str, ArtifactKind] = {
    **{k: k for k in KIND_DIRS},
    **{v: k for k, v in KIND_DIRS.items()},
    "mcp_server": "mcp",
    "doc": "docs",
}


class QualificationNote(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str = "passed"
    report_path: str | None = None
    iteration: int | None = None
    updated_at: str | None = None


class ArtifactEntry(BaseModel):
    """One artifact the agent built."""

    model_config = ConfigDict(extra="forbid")

    id: str
    """``<kind>:<path>``, as upstream."""
    kind: ArtifactKind
    path: str
    """Relative to the workspace, with forward slashes."""
    description: str = ""
    iteration: int | None = None
    """The iteration that built it."""
    created_at: str | None = None
    state: ArtifactState = "candidate"
    """``candidate`` (new), ``qualified`` (passed, not yet active), ``active`` (handed to fresh sessions),
    ``quarantined`` (failed; hidden from sessions)."""
    quarantine_reason: str | None = None
    qualification: QualificationNote | None = None
    digest: str | None = None
    """sha256 of the artifact's file(s) when it was last qualified."""
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    """Everything else the entry carried (unknown keys are kept here)."""


class RejectedEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry: JsonValue
    reason: str


class Registry(BaseModel):
    """``.harnessgym/registry.json``."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    version: int = 1
    """Upstream's format version, kept so upstream 0.1.1 can still read the file."""
    updated_at: str | None = None
    artifacts: list[ArtifactEntry] = Field(default_factory=list)
    rejected: list[RejectedEntry] = Field(default_factory=list)
    """Entries that could not be used, with the reason; kept so nothing the agent wrote is lost."""
    metadata: dict[str, JsonValue] = Field(default_factory=dict)

    def get(self, artifact_id: str) -> ArtifactEntry | None:
        return next((a for a in self.artifacts if a.id == artifact_id), None)


_MAX_PATH_BYTES = 4096
_MAX_NAME_BYTES = 255
"""Longer paths or names no file system holds; checking them would raise instead of saying no."""


def _unusable_path(raw: str) -> str | None:
    """Why ``raw`` cannot name a file at all (checking it would raise, not say no), or None."""
    if "\0" in raw:
        return "holds a NUL character"
    if len(raw.encode("utf-8", "surrogateescape")) > _MAX_PATH_BYTES:
        return f"is longer than {_MAX_PATH_BYTES} bytes"
    if len(raw) > _MAX_NAME_BYTES // 4 and any(  # a name of 63 characters or fewer holds at most 252 bytes
        len(part.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES for part in raw.split("/")
    ):
        return f"has a name longer than {_MAX_NAME_BYTES} bytes"
    return None


def _relative_path(raw: str, workspace: Path) -> str | None:
    """The workspace-relative form of ``raw``, or None when it points outside the workspace."""
    if raw.startswith("/"):
        try:
            raw = Path(raw).resolve().relative_to(workspace.resolve()).as_posix()
        except (ValueError, OSError, RuntimeError):  # outside, or a symlink loop that leads nowhere
            return None
    parts: list[str] = []
    for part in raw.split("/"):  # as a relative PurePosixPath splits it, without building one per entry
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) or None


def _entry(raw: Any, workspace: Path, upstream: bool) -> ArtifactEntry | str:
    """A checked entry, or the reason it cannot be used."""
    if not isinstance(raw, dict):
        return "an artifact entry must be a JSON object"
    kind = _KIND_ALIASES.get(str(raw.get("kind", "")).strip().lower())
    if "kind" not in raw:
        return "artifact entry has no 'kind'"
    if kind is None:
        return f"unknown artifact kind {raw.get('kind')!r}; use one of {', '.join(KIND_DIRS)}"
    if not isinstance(raw.get("path"), str) or not raw["path"].strip():
        return "artifact entry has no 'path'"
    unusable = _unusable_path(raw["path"])
    if unusable is not None:
        return f"artifact path {_short(raw['path'])} {unusable}"
    rel = _relative_path(raw["path"].strip(), workspace)
    if rel is None:
        return f"artifact path {raw['path']!r} is outside the workspace"
    meta: dict[str, Any] = raw["metadata"] if isinstance(raw.get("metadata"), dict) else {}
    known = {"id", "kind", "path", "description", "iteration", "created_at", "state", "quarantine_reason"}
    known |= {"qualification", "digest", "metadata"}
    metadata: dict[str, JsonValue] = {**meta, **{k: v for k, v in raw.items() if k not in known}}
    state = raw.get("state")
    reason = raw.get("quarantine_reason")
    qual = raw.get("qualification") or meta.get("qualification")
    if state not in ("candidate", "qualified", "active", "quarantined"):
        if meta.get("quarantined") is True:
            state = "quarantined"
            q = meta.get("quarantine")
            reason = reason or (str(q.get("reason")) if isinstance(q, dict) and q.get("reason") else None)
        else:
            # Upstream activated every artifact that was not quarantined; new entries of ours start as candidates.
            state = "active" if upstream else "candidate"
    iteration = raw.get("iteration")
    return ArtifactEntry(
        id=str(raw.get("id") or f"{kind}:{rel}"),
        kind=kind,
        path=rel,
        description=str(raw.get("description") or ""),
        iteration=iteration if isinstance(iteration, int) and not isinstance(iteration, bool) else None,
        created_at=str(raw["created_at"]) if raw.get("created_at") else None,
        state=state,
        quarantine_reason=str(reason) if reason else None,
        qualification=_qualification(qual),
        digest=str(raw["digest"]) if isinstance(raw.get("digest"), str) else None,
        metadata=metadata,
    )


def _qualification(raw: Any) -> QualificationNote | None:
    """The entry's qualification note; one of the wrong shape is dropped (qualification writes a new one)."""
    if not isinstance(raw, dict):
        return None
    try:
        return QualificationNote.model_validate(raw)
    except ValidationError:
        return None


def parse_registry(data: Any, workspace: Path) -> tuple[Registry, list[str]]:
    """A registry from parsed JSON (ours or upstream's) and the problems found in it."""
    if not isinstance(data, dict):
        return Registry(), [
            "registry.json does not hold a JSON object; it is kept as registry.unreadable.json "
            "and a new one was started"
        ]
    upstream = "schema_version" not in data
    problems: list[str] = []
    registry = Registry(
        version=data["version"] if isinstance(data.get("version"), int) else 1,
        updated_at=str(data["updated_at"]) if data.get("updated_at") else None,
        metadata=data["metadata"] if isinstance(data.get("metadata"), dict) else {},
    )
    old_rejected = data.get("rejected")
    for old in old_rejected if isinstance(old_rejected, list) else []:
        if isinstance(old, dict) and "reason" in old:
            registry.rejected.append(RejectedEntry(entry=old.get("entry"), reason=str(old["reason"])))
    seen: set[str] = set()
    raw_artifacts = data.get("artifacts")
    for raw in raw_artifacts if isinstance(raw_artifacts, list) else []:
        entry = _entry(raw, workspace, upstream)
        if isinstance(entry, str):
            problems.append(f"registry entry {_short(raw)} was set aside: {entry}")
            registry.rejected.append(RejectedEntry(entry=raw, reason=entry))
        elif entry.id in seen:
            problems.append(f"registry entry {entry.id!r} appears twice; the first one is kept")
        else:
            seen.add(entry.id)
            registry.artifacts.append(entry)
    return registry, problems


def _short(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 120 else text[:117] + "..."


class ArtifactVerdict(BaseModel):
    """Qualification of one artifact in a clean copy of the workspace."""

    model_config = ConfigDict(extra="forbid")

    artifact_id: str
    kind: ArtifactKind
    path: str
    status: Literal["passed", "failed", "skipped"]
    checks: list[str] = Field(default_factory=list)
    """What was checked, e.g. ``exists``, ``front_matter``, ``python_syntax``, ``mcp_smoke``, ``mcp_self_test``."""
    message: str = ""
    """Why it failed or was skipped."""
    tools: list[str] = Field(default_factory=list)
    """For MCP servers: the tools it listed."""
    digest: str | None = None
    """The content digest of what was checked (in the clean copy); a pass is recorded for this content only."""


class QualificationReport(BaseModel):
    """``iterations/<n>/qualification/attempt_<k>/qualification.json``."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    run_id: str | None = None
    iteration: int | None = None
    attempt: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    status: Literal["passed", "failed", "skipped"]
    fresh_workspace: Path | None = None
    artifacts: list[ArtifactVerdict] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    """What passed with a remark, e.g. an MCP server that declares no self-test (it qualified on its smoke test)."""

    @property
    def failed(self) -> list[ArtifactVerdict]:
        return [v for v in self.artifacts if v.status == "failed"]


class SkillActivation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    artifact_id: str
    name: str
    skill_dir: Path
    links: list[Path] = Field(default_factory=list)
    artifact_path: str = ""
    """The registry path (HarnessGym 0.1.1's name)."""


class McpActivation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    artifact_id: str
    name: str
    manifest_path: Path
    digest: str | None = None
    artifact_path: str = ""
    """The registry path (HarnessGym 0.1.1's name)."""
    enabled_tools: list[str] = Field(default_factory=list)
    """The tools its manifest enables (empty: all it lists)."""
    active: bool = True
    """Always true here: only active servers are listed (0.1.1 listed inactive ones with ``active: false``)."""


class QuarantinedRef(BaseModel):
    """One entry of ``quarantined_artifacts`` (HarnessGym 0.1.1's shape)."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    path: str


class ActivationGate(BaseModel):
    """``quality_gate``: HarnessGym 0.1.1's summary of an activation, for scripts that read it."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["passed", "failed"]
    """``failed`` when anything could not be activated (see ``warnings``)."""
    active_mcp_count: int = 0
    inactive_mcp_count: int = 0
    """MCP artifacts in the registry that are not served (quarantined, not yet qualified, broken manifest)."""
    active_tool_count: int = 0
    """Tools the served MCP servers' manifests enable (servers that enable all they list count as one each)."""
    warnings: list[str] = Field(default_factory=list)


class ActivationRecord(BaseModel):
    """``.harnessgym/activation.json`` and its per-iteration copies: what fresh sessions get."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    created_at: datetime = Field(default_factory=utcnow)
    run_id: str | None = None
    iteration: int | None = None
    skills: list[SkillActivation] = Field(default_factory=list)
    mcp_servers: list[McpActivation] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    """Active non-skill, non-MCP artifact ids (tools, verifiers, scripts, ...)."""
    quarantined: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    quarantined_artifacts: list[QuarantinedRef] = Field(default_factory=list)
    """= ``quarantined``, in HarnessGym 0.1.1's shape."""
    quality_gate: ActivationGate | None = None
    """HarnessGym 0.1.1's summary of this activation."""
