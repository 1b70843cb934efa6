"""The run configuration: one frozen model that the CLI, the library and the control server all build."""

from __future__ import annotations

import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from harnessgym.duration import Duration
from harnessgym.errors import ConfigError, UnknownRunnerError
from runners import DEFAULT_GOAL_TOKEN_BUDGET, GOAL_RUNNERS, GoalSpec, RunnerName, RunnerOptions

__all__ = [
    "AUTO_RUNNER_ORDER",
    "GOAL_FROM_TASK",
    "RUNNER_CHOICES",
    "RUNNER_NAMES",
    "RunConfig",
    "RunnerChoice",
    "check_goal",
    "goal_fields",
    "goal_spec",
    "known_runner",
    "new_run_id",
    "resolve_runner",
]

RUNNER_NAMES: tuple[str, ...] = get_args(RunnerName)
"""Every runner's name (declared once, as :data:`runners.RunnerName`)."""
RunnerChoice = Literal["auto", "fake", "claude", "codex", "exec", "tui-goal"]
"""What a run or comparison may ask for: a runner's name, or ``auto`` (see :func:`resolve_runner`)."""
RUNNER_CHOICES: tuple[str, ...] = get_args(RunnerChoice)
if RUNNER_CHOICES[1:] != RUNNER_NAMES:  # the choices and the runners must not drift apart
    raise ImportError(f"RunnerChoice {RUNNER_CHOICES} does not list the runners {RUNNER_NAMES} after 'auto'")
AUTO_RUNNER_ORDER: tuple[str, ...] = ("codex", "claude")
"""What ``runner="auto"`` looks for on the PATH, in order. Codex first: HarnessGym 0.1.1's default runner is
``exec`` (Codex), so a command line that names no runner keeps driving the agent (and the account) it did."""


def resolve_runner(runner: str, options: RunnerOptions) -> tuple[str, str]:
    """The concrete runner for ``runner`` and why it was chosen; ``auto`` takes the first agent CLI of
    :data:`AUTO_RUNNER_ORDER` found on the PATH (by ``--codex-bin``/``--claude-bin``), and the fake agent only
    when it was given a script.
    Raises :class:`~harnessgym.errors.NoRunnerError` when there is none."""
    if runner != "auto":
        return runner, "chosen with --runner"
    if options.fake_script is not None:  # a script for the fake agent is a choice of the fake agent
        return "fake", "no --runner given; --fake-script names the fake agent's script"
    binaries = {"codex": options.codex_bin, "claude": options.claude_bin}
    for name in AUTO_RUNNER_ORDER:
        found = shutil.which(binaries[name])
        if found is not None:
            return name, f"no --runner given; {binaries[name]} found on the PATH at {found}"
    from harnessgym.errors import NoRunnerError

    raise NoRunnerError(tuple(binaries[name] for name in AUTO_RUNNER_ORDER))


GOAL_FROM_TASK = "@task"
"""The ``goal`` value (what a bare ``--goal`` gives) meaning "the task's own success condition"."""


def check_goal(goal: str | None, runner: str, budget: int) -> str | None:
    """The goal a config with these fields runs (``tui-goal`` always runs one), or a clear error."""
    if budget <= 0:
        problem = f"the goal token budget must be a positive number of tokens, not {budget}"
        raise ConfigError(problem, "goal_token_budget")
    if runner == "tui-goal" and goal is None:
        goal = GOAL_FROM_TASK
    if goal is None:
        return None
    if not goal.strip():
        raise ConfigError("the goal is empty; give it a condition, or {goal=@task} for the task's own", "goal")
    if runner not in GOAL_RUNNERS:
        known = ", ".join(sorted(GOAL_RUNNERS))
        raise ConfigError(f"runner {runner!r} cannot run goals; goal mode needs one of: {known}", "goal")
    return goal.strip()


def goal_fields(data: object) -> object:
    """A ``mode="before"`` validator's body for configs with ``goal``/``goal_token_budget``/``runner`` fields."""
    if isinstance(data, dict):
        budget = data.get("goal_token_budget", DEFAULT_GOAL_TOKEN_BUDGET)
        if isinstance(budget, int) and not isinstance(budget, bool):
            data = {**data, "goal": check_goal(data.get("goal"), str(data.get("runner", "fake")), budget)}
    return data


def goal_spec(goal: str | None, budget: int, verify_command: str | None) -> GoalSpec | None:
    """The :class:`runners.GoalSpec` an attempt runs under; ``@task`` becomes the task's success condition, stated
    with the verify command when there is one (the agent can run it; harnessgym runs it again afterwards)."""
    if goal is None:
        return None
    if goal == GOAL_FROM_TASK:
        goal = "the task from the first message is completely solved, as its statement asks"
        if verify_command:
            goal += f", and `{verify_command}` run in the workspace passes"
    return GoalSpec(condition=goal, token_budget=budget)


SCHEMA_VERSION = 1

# Front-end hints, read by harnessgym.options (which documents the keys): the --help section of each field,
# and fields that are not generated options.
_TASK: JsonDict = {"section": "Task"}
_RUN: JsonDict = {"section": "Run"}
_EVIDENCE: JsonDict = {"section": "Evidence"}
_TIME: JsonDict = {"section": "Time limits"}
_ARTIFACTS: JsonDict = {"section": "Artifacts"}
_AGENT: JsonDict = {"section": "Agent"}
_GOAL: JsonDict = {"section": "Agent", "flag_value": "@task", "metavar": "[CONDITION]"}
_FRONT_END: JsonDict = {"section": "Task", "input": "front_end"}
"""Each front end gathers it its own way (a path on the command line, a path under the roots for a tool)."""
_DERIVED: JsonDict = {"input": "derived"}
"""Set by the library, never given."""


def known_runner(value: object) -> object:
    """``value`` if it names a runner; the check every config with a ``runner`` field shares (before the
    ``Literal`` check, so the error lists the names)."""
    if isinstance(value, str) and value not in RUNNER_CHOICES:
        raise UnknownRunnerError(value, RUNNER_CHOICES)
    return value


def new_run_id() -> str:
    """``YYYYmmddTHHMMSSZ-<8 hex>``, as upstream."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


class RunConfig(BaseModel):
    """Everything one run needs. Persisted as ``runs/<id>/run_config.json`` so ``--resume`` needs nothing else.

    It is also the declaration of every run option: the options of ``harnessgym run`` and the arguments of the
    control server's ``start_run`` are generated from these fields (see :mod:`harnessgym.options`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    schema_version: Literal[1] = Field(default=1, json_schema_extra=_DERIVED)
    """Version of this record's shape."""
    workspace: Path = Field(json_schema_extra=_FRONT_END)
    """The agent's working directory (absolute)."""
    task_text: str = Field(json_schema_extra={**_FRONT_END, "flags": ["--task-text"]})
    """The task itself, or the text of the task file."""
    task_path: Path | None = Field(default=None, json_schema_extra={**_FRONT_END, "flags": ["--task"]})
    """Where the task text came from, if a file."""
    run_id: str = Field(default_factory=new_run_id, json_schema_extra=_RUN)
    """The run's folder name under ``.harnessgym/runs`` (default: a timestamp and a random suffix)."""
    iterations: int = Field(default=3, gt=0, json_schema_extra=_RUN)
    """How many attempt/reflect/build cycles at most."""
    runner: RunnerChoice = Field(default="auto", json_schema_extra=_AGENT)
    """The agent CLI: auto (the default) is codex if it is on the PATH, else claude, else an error naming the
    choices, and never the fake agent unless --fake-script names its script; HarnessGym 0.1.1 defaulted to exec
    (codex), which auto keeps where codex is installed; fake is the offline scripted agent (the demo), only when
    asked for. A run records the concrete one it used."""
    runner_options: RunnerOptions = Field(default_factory=RunnerOptions, json_schema_extra=_AGENT)
    """How to drive the agent CLI."""
    attempt_timeout: Duration = Field(default=45 * 60.0, json_schema_extra=_TIME)
    """Wall-clock limit of an attempt."""
    attempt_timeouts: tuple[Duration, ...] = Field(default=(), json_schema_extra=_TIME)
    """Per-iteration attempt limits, e.g. 5m,8m; the last one is reused for later iterations."""
    build_timeout: Duration = Field(default=20 * 60.0, json_schema_extra=_TIME)
    """Limit of a build and of each repair."""
    reflection_timeout: Duration | None = Field(default=None, json_schema_extra=_TIME)
    """Limit of a reflection; defaults to the build timeout."""
    verify_timeout: Duration = Field(default=120.0, json_schema_extra=_TIME)
    """Limit of one verify command run."""
    verify_pass_env: tuple[str, ...] = Field(default=(), json_schema_extra={**_EVIDENCE, "metavar": "NAME"})
    """Secret-named variables (keys, tokens) the verify and post-attempt commands still get (they get no other:
    what they run is mostly the agent's code)."""
    mcp_pass_env: tuple[str, ...] = Field(default=(), json_schema_extra={**_EVIDENCE, "metavar": "NAME"})
    """Variables passed on to every MCP server the run qualifies or serves, secret-named ones included (servers
    otherwise get an allow-list and what their manifest names; HarnessGym 0.1.1 bundles need such keys)."""
    task_state: Literal["continue", "reset"] = Field(default="continue", json_schema_extra=_RUN)
    """``reset`` restores the workspace (except ``.harnessgym``) before every iteration after the first."""
    build_after_solve: bool = Field(default=False, json_schema_extra=_RUN)
    """Still reflect and build after a solved attempt."""
    verify_command: str | None = Field(default=None, json_schema_extra=_EVIDENCE)
    """A shell command harnessgym runs itself after each attempt; its verdict decides "solved"."""
    score_key: str = Field(default="score", json_schema_extra=_EVIDENCE)
    """Where the score is found in the verify command's JSON output."""
    stop_score: float | None = Field(default=None, json_schema_extra=_EVIDENCE)
    """Stop once harnessgym's own measured score reaches this value; with a stop score set, a passing verify or
    the agent's "solved" does not end the run (as in HarnessGym 0.1.1). The agent's claimed score never
    reaches it."""
    higher_is_better: bool = Field(default=False, json_schema_extra=_EVIDENCE)
    """Direction of the score; lower is better by default, as upstream."""
    post_attempt_command: str | None = Field(default=None, json_schema_extra=_EVIDENCE)
    """A shell command harnessgym runs after every attempt (after the verify command, if any); its JSON output
    gives the measured score, and without a verify command it solves the task only when it states a passing
    status or its score reaches the stop score: a bare metrics object is no pass. It runs in the workspace and
    its own process group; as a measurement it passes when it exits 0, prints a JSON object, and that object's
    ``status`` (if any) is passing."""
    post_attempt_score_key: str | None = Field(default=None, json_schema_extra=_EVIDENCE)
    """Where the score is in the post-attempt command's JSON output; defaults to ``score_key``."""
    post_attempt_timeout: Duration = Field(default=120.0, json_schema_extra=_TIME)
    """Limit of one post-attempt command run."""
    optimization_mode: bool = Field(default=False, json_schema_extra=_EVIDENCE)
    """Improve a measured score: a baseline first, and "solved" means the measured score reached
    ``stop_score``, never the agent's word. The score is measured before iteration 1 and after every attempt;
    it needs a post-attempt or verify command to measure with."""
    restore_best: bool = Field(default=True, json_schema_extra=_EVIDENCE)
    """Optimization mode only: put the best-scoring workspace back at the end of the run if the workspace left
    by the last iteration scores worse (a snapshot of the best is kept)."""
    harness_depth: Literal["standard", "deep"] = Field(default="deep", json_schema_extra=_ARTIFACTS)
    """How much tooling the reflection and build phases ask for: ``standard`` keeps each artifact small and
    focused; ``deep`` asks for a suite of executable, self-tested tools."""
    qualify_artifacts: bool = Field(default=True, json_schema_extra=_ARTIFACTS)
    """Qualify new artifacts in a clean copy of the workspace before activating them."""
    artifact_repair_attempts: int = Field(default=1, ge=0, json_schema_extra=_ARTIFACTS)
    """How many times the build session may repair artifacts that failed qualification."""
    require_self_tests: bool = Field(default=False, json_schema_extra=_ARTIFACTS)
    """Fail an MCP server whose manifest declares no ``self_test`` (by default it qualifies on its smoke test,
    ``initialize`` and ``tools/list``, and the missing self-test is a note in the qualification report)."""
    attempt_only: bool = Field(default=False, json_schema_extra=_DERIVED)
    """Attempts only (``harnessgym compare``): no reflection, build or qualification; the artifacts already
    active in the workspace are activated as usual."""
    goal: str | None = Field(default=None, json_schema_extra=_GOAL)
    """Goal mode: the agent keeps working on each attempt until this condition holds, its token budget runs out
    or the attempt times out; ``@task`` (what a bare --goal gives) is the task's own success condition. The
    verify or post command still decides "solved"."""
    goal_token_budget: int = Field(default=DEFAULT_GOAL_TOKEN_BUDGET, json_schema_extra=_AGENT)
    """Tokens one goal-mode attempt may use before the agent is stopped."""
    watch: bool = Field(default=False, json_schema_extra=_AGENT)
    """Experimental, Codex only: run each attempt in Codex's interactive UI in a private tmux server that a
    person can attach to read-only (the command is in the attempt's transcript)."""

    @field_validator("workspace")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @field_validator("runner", mode="before")
    @classmethod
    def _known_runner(cls, value: object) -> object:
        return known_runner(value)

    @field_validator("run_id")
    @classmethod
    def _safe_run_id(cls, value: str) -> str:
        from harnessgym.store.layout import is_run_id

        if not is_run_id(value):
            raise ConfigError(f"run id {value!r} may hold only letters, digits, '-', '_' and '.'", "run_id")
        return value

    @model_validator(mode="before")
    @classmethod
    def _goal(cls, data: object) -> object:
        return goal_fields(data)

    @model_validator(mode="after")
    def _watchable(self) -> RunConfig:
        if self.watch and self.runner not in ("auto", "codex", "exec", "tui-goal"):
            problem = f"it shows Codex's interactive UI, so it needs {{runner=codex}}, not {self.runner!r}"
            raise ConfigError(problem, "watch")
        if self.watch and shutil.which("tmux") is None:
            raise ConfigError("it runs the UI in a private tmux server, and tmux is not on PATH; install tmux", "watch")
        return self

    @property
    def goal_spec(self) -> GoalSpec | None:
        """The goal every attempt runs under, None outside goal mode."""
        return goal_spec(self.goal, self.goal_token_budget, self.verify_command)

    @model_validator(mode="after")
    def _task_present(self) -> RunConfig:
        if not self.task_text.strip():
            raise ConfigError("the task is empty; pass a task file ({task_path}) or the task itself", "task_text")
        return self

    @model_validator(mode="after")
    def _something_to_measure(self) -> RunConfig:
        if self.optimization_mode and not (self.post_attempt_command or self.verify_command):
            raise ConfigError(
                "optimization mode measures a score; give a post-attempt or verify command to measure it with "
                "({post_attempt_command} or {verify_command})",
                "optimization_mode",
            )
        return self

    @property
    def post_score_key(self) -> str:
        """The key the post-attempt command's score is read from."""
        return self.post_attempt_score_key or self.score_key

    @property
    def measure_score_key(self) -> str:
        """The key of the score that counts: the post-attempt command's when there is one, else ``score_key``."""
        return self.post_score_key if self.post_attempt_command else self.score_key

    @property
    def measure_command(self) -> str | None:
        """The command whose score counts in optimization mode: the post-attempt command, else the verify one."""
        return self.post_attempt_command or self.verify_command

    def attempt_timeout_for(self, iteration: int) -> float:
        """The attempt limit of ``iteration`` (1-based)."""
        if not self.attempt_timeouts:
            return self.attempt_timeout
        return self.attempt_timeouts[min(iteration, len(self.attempt_timeouts)) - 1]

    @property
    def reflection_limit(self) -> float:
        return self.reflection_timeout if self.reflection_timeout is not None else self.build_timeout
