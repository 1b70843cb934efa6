"""The records of a comparison: its configuration, one record per trial, the group summaries, the tests and
the verdict. Where each is written: :mod:`harnessgym.compare.layout`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.config import JsonDict

from harnessgym.compare.layout import OutputLayout
from harnessgym.compare.outcomes import CompareVerdict, Comparison, Distribution, GroupSummary, ShiftTest
from harnessgym.compare.spec import Group, TaskSpec, TrialKey, check_arms, check_runners, comma_list, one_task
from harnessgym.compare.suite_models import SuiteAnalysis
from harnessgym.compare.upstream import HarnessValidation, McpTelemetry, UpstreamIteration, UpstreamPost
from harnessgym.config import RunnerChoice, goal_fields, known_runner
from harnessgym.duration import Duration
from harnessgym.errors import ConfigError
from harnessgym.evidence.scores import Measurement
from harnessgym.records import Evidence, RunStatus, utcnow
from runners import DEFAULT_GOAL_TOKEN_BUDGET, RunnerOptions

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

GROUPS: tuple[Group, Group] = ("plain", "harnessed")
InvalidKind = Literal["runner_error", "run_error", "runner_failure", "no_attempt", "no_active_harness",
                      "no_harness_tool_use", "harness_not_delivered",
                      "infra_error"]  # fmt: skip
"""``infra_error``: the infrastructure failed, not the agent at the task (the CLI crashed or could not reach its
model, a worker died, a timeout before the agent's first event); retried, never counted as the task failing."""
SCHEMA_VERSION = 1
RESUME_INDEPENDENT = frozenset(
    {"output_dir", "overwrite", "jobs", "max_retries", "budget_usd", "executor", "ray_address", "ray_cpus_per_trial"}
)
"""Fields that say how a comparison runs, not what it measures: a resumed comparison may change them."""


_TASK: JsonDict = {"section": "Task"}
_TRIALS: JsonDict = {"section": "Trials"}
_EVIDENCE: JsonDict = {"section": "Evidence"}
_TIME: JsonDict = {"section": "Time limits"}
_VALIDITY: JsonDict = {"section": "Validity"}
_STATISTICS: JsonDict = {"section": "Statistics"}
_AGENT: JsonDict = {"section": "Agent"}
_GOAL: JsonDict = {"section": "Agent", "flag_value": "@task", "metavar": "[CONDITION]"}
_SUITE: JsonDict = {"section": "Suite"}
_RUNNING: JsonDict = {"section": "Running"}
_FRONT_END: JsonDict = {"section": "Task", "input": "front_end"}
"""Each front end gathers it its own way (see harnessgym.options for the keys)."""


class CompareConfig(BaseModel):
    """Everything one comparison needs; persisted inside the report so it can be repeated.

    It is also the declaration of every comparison option: the options of ``harnessgym compare`` and the
    arguments of the control server's ``start_compare`` are generated from these fields.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    task_text: str | None = Field(default=None, json_schema_extra={**_FRONT_END, "flags": ["--task-text"]})
    """The task itself, or the text of the task file (a one-task comparison; a suite names its own)."""
    task_path: Path | None = Field(default=None, json_schema_extra={**_FRONT_END, "flags": ["--task"]})
    """Where the task came from; a file inside the template is mapped into each trial's copy."""
    workspace_template: Path | None = Field(
        default=None, json_schema_extra={**_TASK, "path": {"exists": True, "file_okay": False}}
    )
    """The clean starting point; every trial gets a fresh copy (without harness, VCS, caches or binaries).
    Required without ``suite``."""
    suite: Path | None = Field(default=None, json_schema_extra={**_SUITE, "path": {"exists": True, "dir_okay": False}})
    """A suite file (TOML; ``harnessgym schema suite``) listing the tasks, instead of the template and task."""
    split: str | None = Field(default=None, json_schema_extra=_SUITE)
    """Only the suite's tasks of this split (``train``, ``test`` ...)."""
    arms: tuple[str, ...] = Field(default=("plain", "harnessed"), json_schema_extra={**_SUITE, "metavar": "ARM,..."})
    """``plain``, ``harnessed``, and ``ablate`` (one leave-one-out arm per active artifact: the bundle minus it)."""
    runners: tuple[str, ...] = Field(default=(), json_schema_extra={**_AGENT, "metavar": "RUNNER,..."})
    """Replay every arm under each of these runners (e.g. ``claude,codex``); empty: ``runner`` alone."""
    jobs: int = Field(default=1, ge=1, json_schema_extra=_RUNNING)
    """Trials run at once, each with its own workspace and agent home."""
    max_retries: int = Field(default=2, ge=0, json_schema_extra=_RUNNING)
    """Reruns of a trial whose infrastructure failed (infra_error); never counted as the task failing."""
    budget_usd: float | None = Field(default=None, gt=0, json_schema_extra=_RUNNING)
    """Stop starting trials once the runners' reported cost reaches this; finished trials are kept."""
    executor: Literal["local", "process", "ray"] = Field(default="local", json_schema_extra=_RUNNING)
    """Where trials run: ``local`` (this process), ``process`` (a fresh interpreter per trial) or ``ray`` (a task
    per trial on an existing Ray cluster, see ``ray_address``; needs ``pip install 'harnessgym[ray]'``)."""
    ray_address: str | None = Field(default=None, json_schema_extra={**_RUNNING, "metavar": "ADDRESS"})
    """The Ray cluster of ``executor`` ray: ``HOST:PORT`` of its head node (the GCS port, 6379 by default),
    ``ray://HOST:10001`` (Ray Client) or ``auto`` (the cluster started on this machine); default: $RAY_ADDRESS,
    else ``auto``. A cluster that does not answer refuses the comparison before anything is written."""
    ray_cpus_per_trial: float = Field(default=1.0, gt=0, le=64, json_schema_extra=_RUNNING)
    """CPUs Ray reserves for each trial of ``executor`` ray (its ``num_cpus``): a trial mostly waits on its model,
    so a fraction (``0.25``) lets a node run more trials at once; ``--jobs`` still bounds how many are in flight."""
    artifact_source: Path | None = Field(default=None, json_schema_extra={**_TASK, "path": {"exists": True}})
    """A workspace (or its .harnessgym) whose non-quarantined artifacts the harnessed trials get (default: the
    template's own, if it has a registry)."""
    output_dir: Path = Field(json_schema_extra={**_TASK, "path": {"file_okay": False}})
    """Where the trials and compare_report.json go (not a folder holding the template)."""
    trials: int = Field(default=3, gt=0, json_schema_extra=_TRIALS)
    """Trials per arm; HarnessGym 0.1.1 defaulted to 1, which allows no interval and no test."""
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
    goal: str | None = Field(default=None, json_schema_extra=_GOAL)
    """Goal mode: the agent keeps working on each attempt until this condition holds, its token budget runs out
    or the attempt times out; ``@task`` (what a bare --goal gives) is the task's own success condition. The
    verify or post command still decides "solved"."""
    goal_token_budget: int = Field(default=DEFAULT_GOAL_TOKEN_BUDGET, json_schema_extra=_AGENT)
    """Tokens one goal-mode attempt may use before the agent is stopped."""
    watch: bool = Field(default=False, json_schema_extra=_AGENT)
    """Experimental, Codex only: each attempt runs in Codex's interactive UI in a private tmux server (see
    :class:`RunConfig`)."""

    @field_validator("workspace_template", "artifact_source", "output_dir", "task_path", "suite")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return value.expanduser().absolute() if value is not None else None

    @field_validator("runner", mode="before")
    @classmethod
    def _known_runner(cls, value: object) -> object:
        return known_runner(value)

    @model_validator(mode="before")
    @classmethod
    def _goal(cls, data: object) -> object:
        return goal_fields(data)

    @field_validator("verify_command", "post_command")
    @classmethod
    def _command(cls, value: str | None) -> str | None:
        return value if value is None or value.strip() else None

    @field_validator("arms", "runners", mode="before")
    @classmethod
    def _comma_lists(cls, value: object) -> object:
        return comma_list(value)

    @field_validator("arms", "runners")
    @classmethod
    def _known(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return check_arms(value) if info.field_name == "arms" else check_runners(value)

    @model_validator(mode="after")
    def _one_task_or_a_suite(self) -> CompareConfig:
        if self.suite is not None:
            if self.workspace_template is not None or self.task_text is not None:
                raise ConfigError("pass either {suite} or {workspace_template} with a task, not both", "suite")
            return self
        if self.split is not None:
            raise ConfigError("picks tasks of a suite; it needs {suite}", "split")
        if self.workspace_template is None or self.task_text is None:
            raise ConfigError("a comparison needs {suite}, or {workspace_template} with a task")
        return self

    @model_validator(mode="after")
    def _needs_evidence(self) -> CompareConfig:
        if self.suite is None and self.verify_command is None and self.post_command is None:
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

    @property
    def runner_names(self) -> tuple[str, ...]:
        """The runners every arm is replayed under."""
        return self.runners or (self.runner,)

    def tasks(self) -> list[TaskSpec]:
        """The tasks: the suite's (resolved; :class:`ConfigError` when it is bad), or the one task."""
        if self.suite is not None:
            from harnessgym.compare.suite import resolve_suite

            return resolve_suite(self)
        return [self.task_spec()]

    def task_spec(self) -> TaskSpec:
        """The comparison's one task, as every trial of it needs it."""
        return one_task(self)


class TrialRecord(BaseModel):
    """``<group>/trial_<i>/trial.json``: one trial, measured by harnessgym."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    group: Group
    index: int
    """1-based within its group."""
    trial_id: str = ""
    """The :attr:`TrialKey.trial_id` of its slot; a resumed comparison matches finished trials by it."""
    task: str = ""
    """The suite task (empty for a one-task comparison)."""
    arm: str = ""
    """``plain``, ``harnessed`` or ``minus:<artifact id>``; empty means ``group``."""
    runner: str = ""
    """The runner that ran it (empty: the comparison's only runner)."""
    excluded_artifacts: list[str] = Field(default_factory=list)
    """Leave-one-out arms: the artifact ids held back from the bundle."""
    tries: int = 1
    """Runs it took: more than one when earlier ones ended in an infrastructure error (``infra_errors``)."""
    infra_errors: list[str] = Field(default_factory=list)
    """Why each earlier try was an infrastructure failure (their folders are kept beside it)."""
    agent_home: Path | None = None
    """The trial's own agent home (HOME, CLAUDE_CONFIG_DIR, CODEX_HOME below it), seeded from the user's."""
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

    @property
    def key(self) -> TrialKey:
        return TrialKey(group=self.group, index=self.index, task=self.task, arm=self.arm, runner=self.runner)

    @property
    def arm_name(self) -> str:
        return self.arm or self.group


class CompareReport(BaseModel):
    """``<output-dir>/compare_report.json``."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    status: Literal["completed", "interrupted", "budget_stopped"]
    """``interrupted``: stopped early; only the finished trials are in it. ``budget_stopped``: the budget was
    spent before every trial ran (``not_run`` lists the rest)."""
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
    """Two-group tests, plain against harnessed, of a one-task comparison (empty for a suite)."""
    verdict: CompareVerdict
    tasks: list[TaskSpec] = Field(default_factory=list)
    """The tasks, resolved (one for a one-task comparison)."""
    suite: SuiteAnalysis | None = None
    """Across tasks, arms and runners; present for a suite, leave-one-out arms or several runners."""
    not_run: list[TrialKey] = Field(default_factory=list)
    """Planned trials not run because the budget was spent."""
    spent_usd: float | None = None
    """Reported cost of every trial run so far, across resumptions."""
