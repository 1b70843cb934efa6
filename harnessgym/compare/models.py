"""The records of a comparison: its configuration, one record per trial, the group summaries, the tests and
the verdict, and where each is written under ``--output-dir``.

Layout of the output folder (harnessgym's own files; the trial workspaces hold their own ``.harnessgym``)::

    <output-dir>/
      compare_report.json                  CompareReport, written at the end (also when interrupted)
      plain/trial_<i>/{trial.json, workspace/}
      harnessed/trial_<i>/{trial.json, workspace/}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from harnessgym.compare.upstream import HarnessValidation, McpTelemetry, UpstreamIteration, UpstreamPost
from harnessgym.config import RunConfig, RunnerChoice, known_runner
from harnessgym.duration import Duration
from harnessgym.errors import ConfigError
from harnessgym.evidence.scores import Measurement
from harnessgym.records import Evidence, RunStatus, utcnow
from runners import RunnerOptions

__all__ = [
    "GROUPS",
    "CompareConfig",
    "CompareReport",
    "CompareVerdict",
    "Comparison",
    "Distribution",
    "Group",
    "GroupSummary",
    "InvalidKind",
    "OutputLayout",
    "ShiftTest",
    "TrialKey",
    "TrialRecord",
]

Group = Literal["plain", "harnessed"]
GROUPS: tuple[Group, Group] = ("plain", "harnessed")
InvalidKind = Literal["runner_error", "run_error", "runner_failure", "no_attempt", "no_active_harness",
                      "no_harness_tool_use"]  # fmt: skip
SCHEMA_VERSION = 1


_TASK: JsonDict = {"section": "Task"}
_TRIALS: JsonDict = {"section": "Trials"}
_EVIDENCE: JsonDict = {"section": "Evidence"}
_TIME: JsonDict = {"section": "Time limits"}
_VALIDITY: JsonDict = {"section": "Validity"}
_STATISTICS: JsonDict = {"section": "Statistics"}
_AGENT: JsonDict = {"section": "Agent"}
_FRONT_END: JsonDict = {"section": "Task", "input": "front_end"}
"""Each front end gathers it its own way (see harnessgym.options for the keys)."""


class CompareConfig(BaseModel):
    """Everything one comparison needs; persisted inside the report so it can be repeated.

    It is also the declaration of every comparison option: the options of ``harnessgym compare`` and the
    arguments of the control server's ``start_compare`` are generated from these fields.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    task_text: str = Field(json_schema_extra={**_FRONT_END, "flags": ["--task-text"]})
    """The task itself, or the text of the task file."""
    task_path: Path | None = Field(default=None, json_schema_extra={**_FRONT_END, "flags": ["--task"]})
    """Where the task came from; a file inside the template is mapped into each trial's copy."""
    workspace_template: Path = Field(json_schema_extra={**_TASK, "path": {"exists": True, "file_okay": False}})
    """The clean starting point; every trial gets a fresh copy (without harness, VCS, caches or binaries)."""
    artifact_source: Path | None = Field(default=None, json_schema_extra={**_TASK, "path": {"exists": True}})
    """A workspace (or its .harnessgym) whose non-quarantined artifacts the harnessed trials get (default: the
    template's own, if it has a registry)."""
    output_dir: Path = Field(json_schema_extra={**_TASK, "path": {"file_okay": False}})
    """Where the trials and compare_report.json go (not a folder holding the template)."""
    trials: int = Field(default=3, gt=0, json_schema_extra=_TRIALS)
    """Trials per group; HarnessGym 0.1.1 defaulted to 1, which allows no interval and no test."""
    iterations: int = Field(default=1, gt=0, json_schema_extra=_TRIALS)
    """Attempts per trial (attempt-only: no reflection, build or qualification). Without a verify command
    there is no early stop: every trial makes all its attempts."""
    runner: RunnerChoice = Field(default="auto", json_schema_extra=_AGENT)
    """The agent CLI: auto (the default: codex if it is on the PATH, else claude, else an error naming the
    choices), codex (= exec), claude, or fake (offline). HarnessGym 0.1.1 defaulted to exec. The report records
    the concrete one."""
    runner_options: RunnerOptions = Field(default_factory=RunnerOptions, json_schema_extra=_AGENT)
    """How to drive the agent CLI."""
    attempt_timeout: Duration = Field(default=45 * 60.0, json_schema_extra=_TIME)
    """Wall-clock limit of one attempt, as for run; HarnessGym 0.1.1's compare defaulted to 5m, short enough to
    turn hard tasks into timeouts, which count as unsolved."""
    attempt_timeouts: tuple[Duration, ...] = Field(default=(), json_schema_extra=_TIME)
    """Per-iteration attempt limits, e.g. 5m,8m; the last one is reused."""
    verify_command: str | None = Field(default=None, json_schema_extra=_EVIDENCE)
    """A shell command harnessgym runs after each attempt; only its verdict makes a trial solved. At least one
    of ``verify_command`` and ``post_command`` is required."""
    verify_timeout: Duration = Field(default=120.0, json_schema_extra=_TIME)
    """Limit of one verify run."""
    verify_pass_env: tuple[str, ...] = Field(default=(), json_schema_extra={**_EVIDENCE, "metavar": "NAME"})
    """Secret-named variables (keys, tokens) the verify and post commands still get; they get no other, since
    what they run is mostly the agent's code."""
    post_command: str | None = Field(default=None, json_schema_extra=_EVIDENCE)
    """A shell command run once on each trial's final workspace (upstream's ``--post-command``); its JSON score
    is compared between the groups. Without a verify command it is also the evidence: the trial is solved when
    it passes (exit 0, a JSON object, a passing or missing ``status``) and, with ``stop_score``, its score
    reaches that."""
    post_score_key: str | None = Field(default=None, json_schema_extra=_EVIDENCE)
    """Where the post score is found in the post command's JSON output (default: score_key; HarnessGym 0.1.1
    read 'score' whatever --score-key said)."""
    post_timeout: Duration = Field(default=120.0, json_schema_extra=_TIME)
    """Limit of the post command; the whole process tree is killed at it."""
    score_key: str = Field(default="score", json_schema_extra=_EVIDENCE)
    """Where the score is found in the verify command's JSON output."""
    stop_score: float | None = Field(default=None, json_schema_extra=_EVIDENCE)
    """A trial also counts as solved once its measured score reaches this."""
    higher_is_better: bool = Field(default=False, json_schema_extra=_EVIDENCE)
    """Direction of the score; lower is better by default."""
    task_state: Literal["continue", "reset"] = Field(default="reset", json_schema_extra=_TRIALS)
    """``reset`` restores the trial's workspace before each attempt after the first (as upstream compare)."""
    require_active_harness: bool = Field(default=True, json_schema_extra=_VALIDITY)
    """A harnessed trial is invalid unless its session was given at least one working MCP tool (the artifact
    source is qualified before the first trial); off allows a plain-against-plain comparison."""
    require_harness_tool_use: bool = Field(default=False, json_schema_extra=_VALIDITY)
    """A harnessed trial without a single MCP tool call is invalid."""
    overwrite: bool = Field(default=False, json_schema_extra=_TRIALS)
    """Replace the trials of an earlier comparison in ``output_dir``."""
    seed: int = Field(default=0, json_schema_extra=_STATISTICS)
    """Seeds the trial order and the bootstrap, so a comparison can be repeated exactly."""
    alpha: float = Field(default=0.05, gt=0, lt=1, json_schema_extra=_STATISTICS)
    """Significance level of the pre-declared primary test."""
    bootstrap_resamples: int = Field(default=2000, ge=100, json_schema_extra=_STATISTICS)
    """Resamples for the bootstrap interval of the median difference."""

    @field_validator("workspace_template", "artifact_source", "output_dir", "task_path")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return value.expanduser().absolute() if value is not None else None

    @field_validator("runner", mode="before")
    @classmethod
    def _known_runner(cls, value: object) -> object:
        return known_runner(value)

    @field_validator("verify_command", "post_command")
    @classmethod
    def _command(cls, value: str | None) -> str | None:
        return value if value is None or value.strip() else None

    @model_validator(mode="after")
    def _needs_evidence(self) -> CompareConfig:
        if self.verify_command is None and self.post_command is None:
            raise ConfigError(
                "a comparison needs evidence harnessgym gathers itself: pass {verify_command} (run after every "
                "attempt) or {post_command} (run once on each trial's final workspace)"
            )
        return self

    @property
    def evidence_command(self) -> Literal["verify", "post"]:
        """Which command decides "solved": the verify command when there is one, else the post command."""
        return "verify" if self.verify_command is not None else "post"

    @property
    def post_key(self) -> str:
        return self.post_score_key or self.score_key

    def run_config(self, workspace: Path, run_id: str) -> RunConfig:
        """The attempt-only run of one trial in ``workspace``."""
        task_path = self.task_path
        if task_path is not None and task_path.is_relative_to(self.workspace_template):
            task_path = workspace / task_path.relative_to(self.workspace_template)
        return RunConfig(
            workspace=workspace, task_text=self.task_text, task_path=task_path, run_id=run_id,
            iterations=self.iterations, runner=self.runner, runner_options=self.runner_options,
            attempt_timeout=self.attempt_timeout, attempt_timeouts=self.attempt_timeouts,
            verify_command=self.verify_command, verify_timeout=self.verify_timeout, score_key=self.score_key,
            verify_pass_env=self.verify_pass_env,
            stop_score=self.stop_score, higher_is_better=self.higher_is_better, task_state=self.task_state,
            qualify_artifacts=False, attempt_only=True,
        )  # fmt: skip


class TrialKey(BaseModel):
    """One slot of the trial order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: Group
    index: int
    """1-based within its group."""


class TrialRecord(BaseModel):
    """``<group>/trial_<i>/trial.json``: one trial, measured by harnessgym."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    group: Group
    index: int
    """1-based within its group."""
    position: int = 0
    """1-based place in the run order across both groups."""
    workspace: Path
    """The trial's own fresh copy of the template."""
    run_id: str
    """The run inside the trial workspace (``compare-<group>-<i>``)."""
    run_dir: Path | None = None
    run_status: RunStatus | None = None
    """How the run ended; None when it raised before ending."""
    solved: bool = False
    """Solved on harnessgym's own run of the verify command (or, without one, of the post command); never on
    the agent's word."""
    evidence: Evidence = "none"
    """``verified`` when solved."""
    verify_status: str | None = None
    """The last verify run's status (passed, failed, timeout, error)."""
    iterations_completed: int = 0
    attempt_duration_seconds: float | None = None
    """The last attempt's wall-clock time."""
    cumulative_attempt_duration_seconds: float | None = None
    """All attempts of the trial together."""
    score: float | None = None
    """The last measured score (the final state of the workspace)."""
    best_score: float | None = None
    """The best measured score over the trial's attempts."""
    post: Measurement | None = None
    """The post command's run on the final workspace (when one is configured and the run ended)."""
    post_score: float | None = None
    """The post command's score, only when it passed (a failed measurement has no score that counts)."""
    cost_usd: float | None = None
    """As reported by the agent CLI, when it reports one."""
    tokens: dict[str, int] = Field(default_factory=dict)
    """Token counts of the attempts as reported by the agent CLI (summed)."""
    copied_artifacts: list[str] = Field(default_factory=list)
    """Artifact ids copied in from ``--artifact-source`` (harnessed only)."""
    active_artifact_count: int = 0
    """Artifacts active for the attempts (skills, MCP servers, tools), the most over its attempts."""
    active_artifacts: list[str] = Field(default_factory=list)
    active_mcp_count: int = 0
    """MCP servers handed to the session, the most over its attempts."""
    active_tool_count: int = 0
    """Tools those servers listed when qualified, the most over its attempts: a harnessed trial needs one
    (unless ``require_active_harness`` is off)."""
    mcp_call_count: int = 0
    """MCP tool calls the host recorded in the trial workspace."""
    mcp_tools_called: list[str] = Field(default_factory=list)
    """``<server>__<tool>`` names called, sorted."""
    valid: bool = True
    """Whether the trial counts in the statistics."""
    invalid_kind: InvalidKind | None = None
    invalid_reason: str = ""
    """Why it does not count, in words."""
    problems: list[str] = Field(default_factory=list)
    """What went wrong without invalidating the trial (a bad registry entry in the source, ...)."""
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    # HarnessGym 0.1.1's names, repeated from the fields above (harnessgym.compare.upstream.fill_upstream)
    trial: int = 0
    """= ``index``."""
    comparison_valid: bool = True
    """= ``valid``."""
    comparison_invalid_reason: str | None = None
    """= ``invalid_reason``."""
    post_result: UpstreamPost | None = None
    """= ``post``, in 0.1.1's shape."""
    objective_post_valid: bool = False
    """The post command passed with a numeric score."""
    post_valid: bool = False
    """``objective_post_valid`` and the trial is valid."""
    post_invalid_reason: str | None = None
    post_treated_as_worst: bool = False
    """A post command ran but its score does not count."""
    harness_validation: HarnessValidation | None = None
    """Harnessed trials: whether the harness worked, with the MCP counts."""
    iterations: list[UpstreamIteration] = Field(default_factory=list)
    """One row per attempt."""
    mcp_telemetry: McpTelemetry | None = None
    mcp_called_tools: list[str] = Field(default_factory=list)
    """= ``mcp_tools_called``."""


class Distribution(BaseModel):
    """Summary of one measurement over a group's valid trials."""

    model_config = ConfigDict(extra="forbid")

    n: int
    median: float
    mean: float
    min: float
    max: float


class GroupSummary(BaseModel):
    """One group's valid trials, and how many were set aside."""

    model_config = ConfigDict(extra="forbid")

    group: Group
    n_trials: int
    """Trials run (finished)."""
    n_valid: int
    n_invalid: int
    invalid_reasons: dict[str, int] = Field(default_factory=dict)
    """Invalid trials by kind."""
    solved: int
    """Valid trials solved on verified evidence."""
    solve_rate: float | None = None
    """solved / n_valid; None without valid trials."""
    solve_rate_ci: tuple[float, float] | None = None
    """Wilson 95% interval."""
    attempt_duration: Distribution | None = None
    """Last attempt's duration (seconds)."""
    cumulative_attempt_duration: Distribution | None = None
    """All attempts of a trial (seconds)."""
    score: Distribution | None = None
    """Last measured score, over the valid trials that have one."""
    post_score: Distribution | None = None
    """Post command scores, over the valid trials whose post command passed with a number."""
    post_unmeasured: int = 0
    """Valid trials whose post command failed, timed out or printed no score (not in the post score test)."""
    mcp_call_count: int = 0
    """MCP calls over the valid trials."""
    mcp_tools_called: list[str] = Field(default_factory=list)
    cost_usd: float | None = None
    """Total reported cost of the valid trials."""


class ShiftTest(BaseModel):
    """Harnessed against plain on one measurement: harnessed minus plain throughout."""

    model_config = ConfigDict(extra="forbid")

    measure: Literal["cumulative_attempt_duration", "attempt_duration", "score", "post_score"]
    n_harnessed: int
    n_plain: int
    better: Literal["lower", "higher"]
    """Which direction is better for this measure."""
    median_difference: float
    """median(harnessed) − median(plain)."""
    median_difference_ci: tuple[float, float] | None = None
    """Seeded percentile bootstrap 95% interval of the median difference."""
    hodges_lehmann: float
    """Hodges–Lehmann estimate of the shift (harnessed − plain)."""
    mann_whitney_u: float
    """U of the harnessed group."""
    p: float
    """Two-sided Mann–Whitney p."""
    method: Literal["exact", "normal"]
    min_p: float
    """The smallest p these group sizes allow."""
    favours: Literal["harnessed", "plain", "neither"]
    """Descriptively, which group the data lean towards (not a significance claim)."""


class Comparison(BaseModel):
    """The tests between the groups' valid trials."""

    model_config = ConfigDict(extra="forbid")

    solve_rate_difference: float | None = None
    """Harnessed solve rate − plain solve rate."""
    solve_rate_difference_ci: tuple[float, float] | None = None
    """Newcombe's hybrid score 95% interval."""
    fisher_p: float | None = None
    """Two-sided Fisher exact p of the 2×2 table solved/unsolved × group."""
    fisher_min_p: float | None = None
    """The smallest Fisher p these group sizes allow."""
    cumulative_attempt_duration: ShiftTest | None = None
    attempt_duration: ShiftTest | None = None
    score: ShiftTest | None = None
    post_score: ShiftTest | None = None


class CompareVerdict(BaseModel):
    """The answer, from the pre-declared primary outcome only."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["helped", "hurt", "no_detectable_difference", "insufficient_data"]
    primary: Literal["solve_rate", "cumulative_attempt_duration", "post_score"] | None = None
    """Solve rate; when both groups solved all or none of their valid trials, the post score if a post command
    is configured, else the cumulative attempt duration."""
    p: float | None = None
    alpha: float
    headline: str
    """One sentence: the answer and the numbers behind it."""
    notes: list[str] = Field(default_factory=list)
    """Sample sizes, what n a test would need, what was set aside."""


class CompareReport(BaseModel):
    """``<output-dir>/compare_report.json``."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    status: Literal["completed", "interrupted"]
    """``interrupted``: stopped early; only the finished trials are in it."""
    created_at: datetime
    finished_at: datetime = Field(default_factory=utcnow)
    config: CompareConfig
    artifact_workspace: Path | None = None
    """The workspace the harnessed trials' artifacts came from."""
    workspace_template: Path | None = None
    """= ``config.workspace_template`` (HarnessGym 0.1.1's name)."""
    artifact_source: Path | None = None
    """= ``config.artifact_source`` (HarnessGym 0.1.1's name)."""
    artifact_qualification: Path | None = None
    """The qualification report of the source's artifacts, made before the first trial."""
    order: list[TrialKey]
    """The planned run order (randomized in blocks of one trial per group)."""
    trials: list[TrialRecord]
    plain: GroupSummary
    harnessed: GroupSummary
    comparison: Comparison
    verdict: CompareVerdict


@dataclass(frozen=True)
class OutputLayout:
    """Paths under ``--output-dir``."""

    root: Path

    @property
    def report(self) -> Path:
        return self.root / "compare_report.json"

    def group_dir(self, group: Group) -> Path:
        return self.root / group

    def trial_dir(self, group: Group, index: int) -> Path:
        return self.group_dir(group) / f"trial_{index}"

    def trial_record(self, group: Group, index: int) -> Path:
        return self.trial_dir(group, index) / "trial.json"

    def workspace(self, group: Group, index: int) -> Path:
        return self.trial_dir(group, index) / "workspace"
