"""Records of a run: what the agent wrote (read leniently), what harnessgym measured, and what it persists.

Agent claims and measurements are kept apart on purpose: :class:`AgentClaim` is what result.json says,
:class:`Verdict` is what harnessgym measured by running the verify command itself, and
:class:`~harnessgym.evidence.scores.Measurement` what the post-attempt command measured. "solved" follows, in order:
in optimization mode, the measured score reaching the target (and nothing else); else the verify command's
verdict; else, without a verify command, the post-attempt command's verdict (a passing one is evidence like a
verify command); else the agent's claim. :data:`Evidence` says which kind of evidence stands behind it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from harnessgym.evidence.scores import Measurement, OptimizationStep, OptimizationSummary, RestoredBest
from runners import GoalReport, PhaseOutcome

__all__ = [
    "AgentClaim",
    "AgentResult",
    "ArtifactNote",
    "Evidence",
    "IterationBrief",
    "IterationRecord",
    "IterationStatus",
    "JournalEntry",
    "JournalKind",
    "LoopPhase",
    "RunStatus",
    "RunSummary",
    "SelectedImprovement",
    "Verdict",
    "json_too_deep",
    "utcnow",
]

Evidence = Literal["verified", "agent_claim", "none"]
LoopPhase = Literal["prepare", "attempt", "verify", "reflection", "build", "qualify", "activate"]
IterationStatus = Literal["running", "solved", "blocked", "incomplete", "failed", "tooling_built", "interrupted"]
RunStatus = Literal["solved", "not_solved", "interrupted", "error"]
JournalKind = Literal[
    "run_started",
    "run_resumed",
    "run_continued",
    "phase_started",
    "phase_completed",
    "iteration_completed",
    "run_finished",
    "run_interrupted",
]

AGENT_STATUSES: frozenset[str] = frozenset({"solved", "blocked", "incomplete", "tooling_built", "failed"})


MAX_JSON_DEPTH = 64
"""Agent-written or command-printed JSON nested deeper than this is refused: the records that keep it (pydantic
``JsonValue``) cannot hold much more than 250 levels, and no honest verdict or result comes near 64."""


def json_too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests lists and objects deeper than ``limit`` (anything below depth ``limit``).

    Level by level, without recursion, and only containers are carried to the next level: a registry of a
    thousand entries is checked on every read."""
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        if depth > limit:
            return True
        deeper: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            if depth == limit and children:
                return True  # a child, container or not, would sit at depth limit + 1
            deeper.extend(c for c in children if isinstance(c, dict | list))
        level = deeper
        depth += 1
    return depth == 0 and limit < 0  # a bare scalar sits at depth 0


def utcnow() -> datetime:
    return datetime.now(UTC)


class SelectedImprovement(BaseModel):
    """The one addition a reflection chose (upstream ``reflection.selected_improvement``)."""

    model_config = ConfigDict(extra="allow")

    kind: str | None = None
    """``skill``, ``mcp``, ``tool``, ... as the agent wrote it."""
    name: str | None = None
    reason: str | None = None
    target_path: str | None = None


class AgentReflection(BaseModel):
    model_config = ConfigDict(extra="allow")

    recommendations: list[JsonValue] = Field(default_factory=list)
    selected_improvement: SelectedImprovement | None = None


class AgentResult(BaseModel):
    """The agent-facing ``result.json`` (upstream RESULT_SHAPE). Unknown keys are kept, never rejected."""

    model_config = ConfigDict(extra="allow")

    status: str | None = None
    """``solved``, ``blocked``, ``incomplete``, ``tooling_built`` or ``failed``, as the agent claims."""
    verified: bool | None = None
    """Whether the agent claims to have verified its solution."""
    summary: str | None = None
    blockers: list[JsonValue] = Field(default_factory=list)
    missing_tooling: list[JsonValue] = Field(default_factory=list)
    reflection: AgentReflection | None = None
    verification: dict[str, JsonValue] | None = None
    metrics: dict[str, JsonValue] | None = None
    used_harness_tools: list[JsonValue] = Field(default_factory=list)
    used_harness_artifacts: list[JsonValue] = Field(default_factory=list)


class AgentClaim(BaseModel):
    """What the agent claimed after its attempt, extracted from result.json."""

    model_config = ConfigDict(extra="forbid")

    status: str | None = None
    """The claimed status; None when result.json was missing or unreadable."""
    verified: bool | None = None
    score: float | None = None
    """A score the agent wrote; never overrides a measured one."""
    summary: str | None = None
    used_harness_tools: list[str] = Field(default_factory=list)


class Verdict(BaseModel):
    """What harnessgym measured by running a verify or score command itself."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    command: str
    status: Literal["passed", "failed", "timeout", "error"]
    """``error``: the command could not be started."""
    score: float | None = None
    score_key: str = "score"
    return_code: int | None = None
    timed_out: bool = False
    duration_seconds: float = 0.0
    stdout_path: Path | None = None
    stderr_path: Path | None = None
    payload: dict[str, JsonValue] | None = None
    """The command's stdout parsed as a JSON object, if it was one."""
    decided_by: Literal["json_status", "exit_code"] = "exit_code"
    """Whether the JSON ``status`` or the exit code decided pass/fail."""
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


class ArtifactNote(BaseModel):
    """An artifact an iteration built or changed, with what qualifying it found (for the end of a run)."""

    model_config = ConfigDict(extra="forbid")

    artifact_id: str
    kind: str
    verdict: Literal["passed", "failed", "skipped", "not_qualified"]
    """The qualification verdict; ``not_qualified`` when the run skips qualification."""
    state: str
    """Its registry state after the iteration: ``active``, ``quarantined``, ..."""
    tools: list[str] = Field(default_factory=list)
    """For an MCP server: the tools its smoke test listed."""
    message: str = ""
    """Why it failed, when it did."""


class IterationRecord(BaseModel):
    """harnessgym's own record of one iteration (``iterations/<n>/iteration.json``), updated after each phase."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    run_id: str
    iteration: int
    status: IterationStatus = "running"
    completed_phases: list[LoopPhase] = Field(default_factory=list)
    """Phases done (or deliberately skipped); a resumed run starts after the last of them."""
    skipped_phases: list[LoopPhase] = Field(default_factory=list)
    phases: dict[str, PhaseOutcome] = Field(default_factory=dict)
    """Agent phases by name: ``attempt``, ``reflection``, ``build``, ``repair_1`` ..."""
    agent_claim: AgentClaim | None = None
    """What result.json claimed after the attempt."""
    verdict: Verdict | None = None
    """What the verify command measured after the attempt (None without a verify command)."""
    post_attempt: Measurement | None = None
    """What the post-attempt command measured after the attempt (and after the verify command). Without a verify
    command its verdict decides "solved" outside optimization mode: passed means solved, with ``verified``
    evidence; failed means not solved, whatever the agent claims."""
    solved: bool = False
    """In optimization mode: the measured score reached ``stop_score``. Otherwise see the module docstring."""
    evidence: Evidence = "none"
    score: float | None = None
    """The score that counts: the post-attempt command's, else the verify command's, else (with neither) the
    agent's claim. In optimization mode only a score from passing commands counts, never the agent's."""
    optimization: OptimizationStep | None = None
    """Optimization mode only: the score against the baseline and the best so far."""
    target_reached: bool = False
    selected_improvement: SelectedImprovement | None = None
    qualification_status: Literal["passed", "failed", "skipped", "not_run"] = "not_run"
    qualification_report: Path | None = None
    mcp_calls: int = 0
    """MCP tool calls the host recorded for this iteration's attempt."""
    mcp_calls_from: int = 0
    """Where the host's telemetry file ended when the attempt started: its calls are read from there on."""
    goal: GoalReport | None = None
    """Goal mode only: the attempt's goal, how it ended (met, impossible, budget exhausted, timeout ...), the
    turns and tokens it took. How long the agent tried, as the CLI saw it; ``solved`` still rests on evidence."""
    mcp_delivered: bool | None = None
    """Whether the attempt's session got the host's tools, as its CLI reported (None: no MCP server was handed
    over). False is a failed delivery: that attempt is not a harnessed one."""
    active_artifacts: list[str] = Field(default_factory=list)
    """Artifact ids active for the next fresh session, after this iteration."""
    quarantined_artifacts: list[str] = Field(default_factory=list)
    artifacts: list[ArtifactNote] = Field(default_factory=list)
    """The artifacts this iteration built or changed, with their qualification verdicts."""
    problems: list[str] = Field(default_factory=list)
    """What went wrong with what the agent wrote or did (malformed result.json, a bad registry entry, ...)."""
    started_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class IterationBrief(BaseModel):
    """One line of the summary per iteration."""

    model_config = ConfigDict(extra="forbid")

    iteration: int
    status: IterationStatus
    solved: bool
    evidence: Evidence
    score: float | None = None
    verdict_status: str | None = None
    claim_status: str | None = None
    attempt_status: str | None = None
    record_path: Path
    cost_usd: float | None = None
    result_path: Path | None = None
    """The agent's result.json of the iteration (HarnessGym 0.1.1's name)."""
    best_score: float | None = None
    """The best score of this iteration and the ones before it."""
    mcp_calls: int = 0
    """MCP tool calls the host recorded for the attempt."""
    duration_seconds: float | None = None
    """From the iteration's start to its last recorded phase."""
    artifacts: list[ArtifactNote] = Field(default_factory=list)
    """What the iteration built or changed, with verdicts."""


class RunSummary(BaseModel):
    """``runs/<id>/summary.json``: written at the end of a run, including an interrupted one."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    run_id: str
    workspace: Path
    run_dir: Path
    status: RunStatus
    solved: bool
    evidence: Evidence
    """``verified``: the verify command passed; ``agent_claim``: only the agent says so; ``none``: not solved."""
    runner: str | None = None
    """The agent CLI the run drove (``codex``, ``claude``, ``fake``), as resolved at its start."""
    final_status: RunStatus | None = None
    """``status`` under HarnessGym 0.1.1's name, for scripts that read its summary.json."""
    solved_iteration: int | None = None
    best_score: float | None = None
    optimization: OptimizationSummary | None = None
    """Optimization mode only: baseline, best score and improvement."""
    baseline_post_attempt: Measurement | None = None
    """Optimization mode only: the measurement of the untouched workspace (HarnessGym 0.1.1's name)."""
    restored_best: RestoredBest | None = None
    """Optimization mode with restore-best only, at the normal end of a run: whether the best checkpoint was put
    back and what re-measuring it gave."""
    iterations: list[IterationBrief] = Field(default_factory=list)
    active_artifacts: list[str] = Field(default_factory=list)
    quarantined_artifacts: list[str] = Field(default_factory=list)
    cost_usd: float | None = None
    started_at: datetime
    finished_at: datetime = Field(default_factory=utcnow)
    message: str = ""


class JournalEntry(BaseModel):
    """One line of ``runs/<id>/journal.jsonl``: append-only, fsynced, the truth a resume starts from."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    seq: int
    at: datetime = Field(default_factory=utcnow)
    kind: JournalKind
    iteration: int | None = None
    phase: LoopPhase | None = None
    pid: int | None = None
    """The harnessgym process that wrote the line."""
    record: IterationRecord | None = None
    """The iteration record as it stood after the phase."""
    summary: RunSummary | None = None
    message: str = ""


def json_dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
