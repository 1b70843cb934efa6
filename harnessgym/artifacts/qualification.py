"""Qualify artifacts in a clean copy of the pre-run workspace plus the artifact bundle.

Each artifact gets its own verdict, so one broken artifact is quarantined without taking the bundle down.

Besides the static checks (the file exists inside the workspace, a skill's front matter, a Python file's
syntax), any artifact but an MCP server (whose manifest holds its own) may declare a ``self_test`` in its
registry entry, in the forms an MCP manifest accepts: ``true`` (run the file with ``--self-test``; Python
files with the interpreter), a command string, an argument list, or an object with ``command``/``args``/
``cwd``/``timeout_seconds``; ``self_test_timeout_sec`` sets the limit (default 60 s, at most 15 minutes). It
runs in the clean copy, from its root, in its own process group with the same secret-free environment
generated servers get, and the artifact passes only when it exits 0. Agent-written code, so nothing here
trusts it: a bad declaration fails that artifact with the reason.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import anyio

from harnessgym import store
from harnessgym.artifacts import servers as mcp_artifacts
from harnessgym.artifacts.registry import (
    ArtifactEntry,
    ArtifactVerdict,
    QualificationNote,
    QualificationReport,
    Registry,
)
from harnessgym.artifacts.skills import check_skill
from harnessgym.records import utcnow
from harnessgym.secrecy import seal_environ
from harnessgym.store.layout import Layout
from harnessgym.store.overlay import open_clean_copy
from mcp_host import (
    ManifestError,
    SelfTestSpec,
    VerdictStore,
    program,
    run_self_test,
    scrubbed_env,
    seconds,
    self_test,
)

__all__ = [
    "apply_verdicts",
    "check_artifact",
    "has_verdict",
    "needs_qualification",
    "qualify_in_fresh_copy",
    "trust_without_qualification",
]


# -- the gate: harnessgym's own verdicts, never the registry's word ------------------------------------------


def _verdicts(layout: Layout) -> VerdictStore:
    return VerdictStore(layout.workspace)


def has_verdict(layout: Layout, entry: ArtifactEntry, verdicts: VerdictStore | None = None) -> bool:
    """Whether harnessgym qualified ``entry`` as it is now: a passing verdict it recorded for its current content.

    The one place that asks; anything without such a verdict (an imported bundle, HarnessGym 0.1.1's registry
    that calls everything active, a file changed since it was qualified) is qualified before it is activated.
    What the registry says (``state``, ``digest``, ``qualification``) is the agent's to write and counts for
    nothing here: the verdicts live in harnessgym's state directory, outside the workspace. ``verdicts``: the
    workspace's verdict store, when the caller asks about many entries.
    """
    verdicts = verdicts if verdicts is not None else _verdicts(layout)
    if entry.kind == "mcp":
        return mcp_artifacts.server_passed(layout.workspace, entry, verdicts)
    digest = store.artifact_digest(layout, entry)
    if digest is None:
        return False
    # The verdict files are harnessgym's own (outside the workspace); one unchanged since it was read is not
    # read again: a run asks about every artifact in several phases of every iteration.
    path = f"{os.fspath(verdicts.dir)}/verdicts/artifact-{digest}.json"  # a str: asked per entry, several times
    try:
        st = os.stat(path, follow_symlinks=False)
        identity: tuple[int, ...] | None = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    except OSError:
        identity = None
    kept = _READ_VERDICTS.get(path)
    if identity is not None and kept is not None and kept[0] == identity:
        return kept[1] == entry.id
    verdict = verdicts.passed("artifact", digest)
    passed_for = str(verdict.get("artifact_id")) if verdict is not None else None
    if identity is not None:
        if len(_READ_VERDICTS) >= 100_000:
            _READ_VERDICTS.clear()
        _READ_VERDICTS[path] = (identity, passed_for)
    return passed_for == entry.id


_READ_VERDICTS: dict[str, tuple[tuple[int, ...], str | None]] = {}


def needs_qualification(layout: Layout, registry: Registry) -> tuple[list[ArtifactEntry], list[str]]:
    """The entries to qualify: candidates, and any other not quarantined that harnessgym has no passing verdict
    for as it stands (marked active by the agent, or edited since it passed), which become candidates again."""
    out: list[ArtifactEntry] = []
    problems: list[str] = []
    verdicts = _verdicts(layout)
    for entry in registry.artifacts:
        if entry.state == "quarantined":
            continue
        if entry.state == "candidate":
            out.append(entry)
        elif not has_verdict(layout, entry, verdicts):
            problems.append(f"artifact {entry.id!r} is marked {entry.state}, but harnessgym has no passing "
                            "verdict for its current content; it is qualified again")  # fmt: skip
            entry.state = "candidate"
            out.append(entry)
    return out, problems


def trust_without_qualification(
    layout: Layout, entries: Sequence[ArtifactEntry], reason: str = "qualification was turned off by the user"
) -> None:
    """Record that the user vouched for ``entries`` (qualification turned off, or a comparison's artifact source):
    they count as passed with their current content, and an edit still needs a new check."""
    verdicts = _verdicts(layout)
    for entry in entries:
        if entry.kind == "mcp":
            mcp_artifacts.trust_server(layout.workspace, entry, verdicts, reason)
            continue
        digest = store.artifact_digest(layout, entry)
        if digest is not None:
            verdicts.put("artifact", digest, {"status": "passed", "artifact_id": entry.id, "message": reason})


def _skill_md(root: Path) -> Path:
    return root if root.name == "SKILL.md" else root / "SKILL.md"


def check_artifact(workspace: Path, entry: ArtifactEntry) -> ArtifactVerdict:
    """Check one non-MCP artifact as it stands in ``workspace``."""
    path = workspace / entry.path

    def verdict(ok: bool, checks: list[str], message: str = "") -> ArtifactVerdict:
        return ArtifactVerdict(
            artifact_id=entry.id,
            kind=entry.kind,
            path=entry.path,
            status="passed" if ok else "failed",
            checks=checks,
            message=message,
        )

    if not path.exists():
        return verdict(False, ["exists"], f"{entry.path} is missing from the clean copy")
    if not store.is_inside(workspace, path) or (
        entry.kind == "skill" and not store.is_inside(workspace, _skill_md(path))
    ):
        return verdict(
            False,
            ["exists", "inside_workspace"],
            f"{entry.path} leads outside the workspace through a symlink; artifacts must live inside it",
        )
    if entry.kind == "skill":
        problem = check_skill(_skill_md(path))
        return verdict(problem is None, ["exists", "front_matter"], problem or "")
    if path.is_file() and path.suffix == ".py":
        try:
            compile(path.read_bytes(), str(path), "exec")
        except SyntaxError as exc:
            return verdict(False, ["exists", "python_syntax"], f"{entry.path} line {exc.lineno}: {exc.msg}")
        return verdict(True, ["exists", "python_syntax"])
    return verdict(True, ["exists"])


SELF_TEST_TIMEOUT = 60.0


def artifact_self_test(workspace: Path, entry: ArtifactEntry) -> SelfTestSpec | str | None:
    """The self-test ``entry`` declares (None when it declares none), or why the declaration is unusable."""
    value = entry.metadata.get("self_test")
    if value is None or value is False:
        return None
    where = Path(f"registry.json entry {entry.id}")
    path = workspace / entry.path
    try:
        raw_timeout = entry.metadata.get("self_test_timeout_sec")
        timeout = SELF_TEST_TIMEOUT if raw_timeout is None else seconds(where, "self_test_timeout_sec", raw_timeout)
        if value is True and not (path.is_file() and (path.suffix == ".py" or os.access(path, os.X_OK))):
            return "self_test true runs the artifact's file with --self-test, but it is not a Python or executable file"
        own = [program("python3"), str(path)] if path.suffix == ".py" else [str(path)]
        spec = self_test(where, workspace, value, own, workspace, timeout)
    except ManifestError as exc:
        return str(exc)
    if spec is not None and not store.is_inside(workspace, spec.cwd):
        return f"{where}: self_test.cwd {spec.cwd} is outside the clean copy; a self-test runs inside it"
    return spec


async def run_artifact_self_test(
    workspace: Path, entry: ArtifactEntry, spec: SelfTestSpec, out_dir: Path
) -> tuple[bool, str]:
    """Run ``spec`` in ``workspace`` as agent-written code is run; (passed, message with the output's tail)."""
    # Named by the path; a long one is cut and told apart by a digest (a file name holds at most 255 bytes).
    stem = entry.path.replace("/", "_")
    if len(stem.encode()) > 120:
        digest = hashlib.sha256(entry.path.encode()).hexdigest()[:12]
        stem = f"{stem.encode()[:120].decode(errors='ignore')}_{digest}"
    run = await run_self_test(spec, env=scrubbed_env(workspace=workspace), out_stem=out_dir / stem)
    if run.status == "passed":
        return True, ""
    return False, run.message + (f"\n{run.output}" if run.output else "")


async def _self_tested(fresh: Path, entry: ArtifactEntry, verdict: ArtifactVerdict, out_dir: Path) -> ArtifactVerdict:
    """``verdict`` after the artifact's own self-test, when it declares one and passed the static checks."""
    if verdict.status != "passed":
        return verdict
    spec = artifact_self_test(fresh, entry)
    if spec is None:
        return verdict
    checks = [*verdict.checks, "self_test"]
    if isinstance(spec, str):
        return verdict.model_copy(update={"status": "failed", "checks": checks, "message": spec})
    passed, message = await run_artifact_self_test(fresh, entry, spec, out_dir)
    return verdict.model_copy(update={"status": "passed" if passed else "failed", "checks": checks,
                                      "message": message})  # fmt: skip


async def qualify_in_fresh_copy(
    layout: Layout,
    template: Path,
    dest: Path,
    entries: Sequence[ArtifactEntry],
    *,
    run_id: str | None = None,
    iteration: int | None = None,
    attempt: int = 1,
    mcp_pass_env: Sequence[str] = (),
    require_self_tests: bool = False,
) -> QualificationReport:
    """Make ``dest/workspace`` a clean copy of ``template``, add the bundle, check ``entries`` there, write the
    report. The clean copy is an overlay of the template where this machine mounts one (nothing copied, the
    template never written; see :mod:`harnessgym.store.overlay`), else a copy. It is removed after the check,
    unless the check failed: then it is kept (a real copy) to look into."""
    seal_environ()  # self-tests are agent-written code: they must not read this process's keys from /proc
    fresh = dest / "workspace"
    clean = await open_clean_copy(template, fresh, sweep_below=layout.root)
    status: Literal["passed", "failed", "skipped"] | None = None
    try:
        store.copy_bundle(layout, fresh)
        verdicts = await _check_all(layout, fresh, dest, entries, mcp_pass_env, require_self_tests)
        if not verdicts:
            status = "skipped"
        elif any(v.status == "failed" for v in verdicts):
            status = "failed"
        else:
            status = "passed"
    finally:
        with anyio.CancelScope(shield=True):  # never left mounted, even when cancelled
            await clean.close(keep=status == "failed")
    assert status is not None  # set unless the check raised
    report = QualificationReport(
        run_id=run_id,
        iteration=iteration,
        attempt=attempt,
        status=status,
        fresh_workspace=fresh if status == "failed" else None,
        artifacts=verdicts,
        warnings=[f"{v.artifact_id}: {v.message}" for v in verdicts if v.status == "skipped"],
        notes=[f"{v.artifact_id}: {mcp_artifacts.NO_SELF_TEST_NOTE}" for v in verdicts
               if v.status == "passed" and "mcp_self_test:not_configured" in v.checks],
    )  # fmt: skip
    store.write_model(dest / "qualification.json", report)
    return report


async def _check_all(
    layout: Layout,
    fresh: Path,
    dest: Path,
    entries: Sequence[ArtifactEntry],
    mcp_pass_env: Sequence[str],
    require_self_tests: bool,
) -> list[ArtifactVerdict]:
    """Every entry's verdict, checked in the clean copy ``fresh``."""
    static = [(e, check_artifact(fresh, e)) for e in entries if e.kind != "mcp"]
    verdicts: list[ArtifactVerdict] = [v for _, v in static]

    async def self_test_one(i: int, entry: ArtifactEntry) -> None:
        verdicts[i] = await _self_tested(fresh, entry, verdicts[i], dest)

    async with anyio.create_task_group() as tg:  # self-tests run side by side, like MCP servers' checks
        for i, (entry, _) in enumerate(static):
            tg.start_soon(self_test_one, i, entry)
    checked = Layout(fresh)
    verdicts = [v.model_copy(update={"digest": store.artifact_digest(checked, e)})
                for (e, _), v in zip(static, verdicts, strict=True)]  # fmt: skip
    mcp_entries = [e for e in entries if e.kind == "mcp"]
    verdicts += await mcp_artifacts.qualify_mcp(
        mcp_entries, fresh, layout.workspace, mcp_pass_env, require_self_tests=require_self_tests
    )
    return verdicts


def apply_verdicts(
    layout: Layout,
    registry: Registry,
    report: QualificationReport,
    report_path: str,
    iteration: int | None,
    *,
    promote: bool,
) -> tuple[list[str], list[str]]:
    """Mark passed artifacts qualified (active when ``promote``), quarantine failed ones; return both id lists."""
    passed: list[str] = []
    failed: list[str] = []
    by_id: dict[str, ArtifactVerdict] = {v.artifact_id: v for v in report.artifacts}
    verdicts = _verdicts(layout)
    for entry in registry.artifacts:
        verdict = by_id.get(entry.id)
        if verdict is None or verdict.status == "skipped":
            continue
        note = QualificationNote(
            status=verdict.status, report_path=report_path, iteration=iteration, updated_at=utcnow().isoformat()
        )
        entry.qualification = note
        if verdict.status == "passed":
            entry.state = "active" if promote else "qualified"
            entry.quarantine_reason = None
            entry.digest = store.artifact_digest(layout, entry)
            # What was checked is the clean copy's content: the pass is recorded for that digest only.
            digest = verdict.digest
            if entry.kind != "mcp" and digest is not None:
                verdicts.put(
                    "artifact",
                    digest,
                    {
                        "status": "passed",
                        "artifact_id": entry.id,
                        "kind": entry.kind,
                        "report_path": report_path,
                        "checks": verdict.checks,
                    },
                )
            passed.append(entry.id)
        else:
            entry.state = "quarantined"
            entry.quarantine_reason = verdict.message or "failed qualification"
            failed.append(entry.id)
    return passed, failed
