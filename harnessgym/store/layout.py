"""Where every file under ``<workspace>/.harnessgym`` lives. Nothing else in harnessgym spells these paths.

The layout is the upstream one, so existing bundles keep working::

    .harnessgym/
      registry.json  activation.json  lock
      mcp_calls.jsonl  host/{active.json, verdicts/, logs/, daemon.log}     (owned by mcp_host)
      skills/ mcp/ tools/ verifiers/ fixtures/ tests/ docs/ scripts/
      task_state/initial/
      jobs/<job_id>/
        job.json  spec.json  outcome.json  events.jsonl  worker.{stdout,stderr}.txt   (detached workers)
      runs/<run_id>/
        run_config.json  journal.jsonl  summary.json
        qualification/workspace_template/
        baseline/baseline.{stdout,stderr}.txt  baseline/baseline.json      (optimization mode)
        checkpoints/best/{best_manifest.json, workspace/}                  (optimization mode, restore-best)
        checkpoints/restored_best.{stdout,stderr}.txt
        iterations/<n>/
          result.json  iteration.json  activation.json  post_build_activation.json
          {attempt,reflection,build}.{prompt,stdout,stderr,transcript}.txt
          verify.{stdout,stderr}.txt  verify.json  post_attempt.{stdout,stderr}.txt
          qualification/attempt_<k>/{qualification.json, workspace/}
          repair_<k>/build.{prompt,stdout,stderr,transcript}.txt

This module only computes paths; :mod:`harnessgym.store` reads and writes them. The paths the MCP host
keeps (its folder, the telemetry, the servers' folder) are :mod:`mcp_host`'s (``mcp_host._paths``): they are
asked for there, never spelled again here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from mcp_host import HARNESS_DIR, MANIFESTS_DIR, calls_path, harness_dir, host_dir

__all__ = [
    "ARTIFACT_DIRS",
    "HARNESS_DIR",
    "KIND_DIRS",
    "ArtifactKind",
    "JobLayout",
    "Layout",
    "PhaseFiles",
    "RunLayout",
]

ArtifactKind = Literal["skill", "mcp", "tool", "verifier", "fixture", "test", "docs", "script"]

KIND_DIRS: dict[ArtifactKind, str] = {
    "skill": "skills",
    "mcp": MANIFESTS_DIR,
    "tool": "tools",
    "verifier": "verifiers",
    "fixture": "fixtures",
    "test": "tests",
    "docs": "docs",
    "script": "scripts",
}
ARTIFACT_DIRS: tuple[str, ...] = tuple(KIND_DIRS.values())


@dataclass(frozen=True)
class PhaseFiles:
    """The four files of one agent phase."""

    prompt: Path
    stdout: Path
    stderr: Path
    transcript: Path


class _Below:
    """A fixed path below a layout's folder, read as an attribute: ``registry = _Below("registry.json")``."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    def __get__(self, layout: _Folder, owner: type[Any] | None = None) -> Path:
        return layout.folder.joinpath(*self.parts)


class _Folder(Protocol):
    @property
    def folder(self) -> Path: ...


@dataclass(frozen=True)
class Layout:
    """Paths of one workspace's ``.harnessgym`` folder."""

    workspace: Path

    @property
    def root(self) -> Path:
        return harness_dir(self.workspace)

    folder = root  # what the paths below hang from
    registry = _Below("registry.json")
    registry_unreadable = _Below("registry.unreadable.json")
    """Where an unreadable registry.json is kept when a new one replaces it."""
    activation = _Below("activation.json")
    lock = _Below("lock")
    runs = _Below("runs")
    jobs = _Below("jobs")
    """Detached workers' folders (a run or a comparison started through ``serve``), one per job."""
    task_state = _Below("task_state", "initial")

    @property
    def mcp_calls(self) -> Path:
        """The per-call telemetry the host writes."""
        return calls_path(self.workspace)

    @property
    def host(self) -> Path:
        """The host's folder: the active set, the verdict cache, the servers' logs."""
        return host_dir(self.workspace)

    def kind_dir(self, kind: ArtifactKind) -> Path:
        return self.root / KIND_DIRS[kind]

    def run(self, run_id: str) -> RunLayout:
        return RunLayout(self.runs / run_id)

    def job(self, job_id: str) -> JobLayout:
        return JobLayout(self.jobs / job_id)

    def agents_skill_link(self, name: str) -> Path:
        """Where Codex looks for a skill."""
        return self.workspace / ".agents" / "skills" / name

    def claude_skill_link(self, name: str) -> Path:
        """Where Claude Code looks for a skill."""
        return self.workspace / ".claude" / "skills" / name

    @property
    def skill_link_dirs(self) -> tuple[Path, Path]:
        return (self.workspace / ".agents" / "skills", self.workspace / ".claude" / "skills")


@dataclass(frozen=True)
class RunLayout:
    """Paths of one run's folder."""

    dir: Path

    @property
    def folder(self) -> Path:
        return self.dir

    config = _Below("run_config.json")
    journal = _Below("journal.jsonl")
    summary = _Below("summary.json")
    template = _Below("qualification", "workspace_template")

    def iteration_dir(self, n: int) -> Path:
        return self.dir / "iterations" / str(n)

    def result(self, n: int) -> Path:
        """The agent-facing result.json of iteration ``n``."""
        return self.iteration_dir(n) / "result.json"

    def iteration_record(self, n: int) -> Path:
        return self.iteration_dir(n) / "iteration.json"

    def activation(self, n: int, *, post_build: bool = False) -> Path:
        name = "post_build_activation.json" if post_build else "activation.json"
        return self.iteration_dir(n) / name

    def phase(self, n: int, phase: str, repair: int | None = None) -> PhaseFiles:
        base = self.iteration_dir(n) if repair is None else self.iteration_dir(n) / f"repair_{repair}"
        name = "build" if repair is not None else phase
        return PhaseFiles(
            prompt=base / f"{name}.prompt.txt",
            stdout=base / f"{name}.stdout.txt",
            stderr=base / f"{name}.stderr.txt",
            transcript=base / f"{name}.transcript.txt",
        )

    def verify_files(self, n: int) -> tuple[Path, Path, Path]:
        """stdout, stderr and the verdict JSON of the verify command after attempt ``n``."""
        base = self.iteration_dir(n)
        return base / "verify.stdout.txt", base / "verify.stderr.txt", base / "verify.json"

    def post_attempt_files(self, n: int) -> tuple[Path, Path]:
        """stdout and stderr of the post-attempt command after attempt ``n``."""
        base = self.iteration_dir(n)
        return base / "post_attempt.stdout.txt", base / "post_attempt.stderr.txt"

    baseline_stdout = _Below("baseline", "baseline.stdout.txt")
    baseline_stderr = _Below("baseline", "baseline.stderr.txt")
    baseline = _Below("baseline", "baseline.json")
    """The measurement of the untouched workspace before iteration 1 (optimization mode)."""
    checkpoints = _Below("checkpoints")
    best_checkpoint = _Below("checkpoints", "best")
    """The best-scoring workspace: ``best_manifest.json`` and the files under ``workspace/``."""
    restored_stdout = _Below("checkpoints", "restored_best.stdout.txt")
    restored_stderr = _Below("checkpoints", "restored_best.stderr.txt")

    def qualification_dir(self, n: int, attempt: int) -> Path:
        return self.iteration_dir(n) / "qualification" / f"attempt_{attempt}"

    def qualification_report(self, n: int, attempt: int) -> Path:
        return self.qualification_dir(n, attempt) / "qualification.json"


@dataclass(frozen=True)
class JobLayout:
    """Paths of one detached worker's folder."""

    dir: Path

    @property
    def folder(self) -> Path:
        return self.dir

    record = _Below("job.json")
    """Who runs it: written once by the process that started the worker."""
    spec = _Below("spec.json")
    """What the worker does: read by the worker at its start."""
    outcome = _Below("outcome.json")
    """How it ended: written by the worker on its way out."""
    events = _Below("events.jsonl")
    """Its progress events, one JSON line each, appended as they happen."""
    stdout = _Below("worker.stdout.txt")
    stderr = _Below("worker.stderr.txt")


def is_run_id(text: str) -> bool:
    """Whether ``text`` is safe as a run folder name."""
    return bool(text) and text not in {".", ".."} and all(c.isalnum() or c in "-_." for c in text)
