"""One declaration, three front ends: every config field is reachable from the command line and from the
control server's tools, no front end invents an option, and a field added to a config model alone shows up in
``--help``, in the tool's input schema and in the model's JSON Schema.

The only options a front end may add are listed here, each with why.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from mcp import Client
from mcp.server import MCPServer
from pydantic import Field

from harnessgym.cli import cli
from harnessgym.commands.compare import compare
from harnessgym.commands.run import run
from harnessgym.commands.serve import serve
from harnessgym.compare.models import CompareConfig
from harnessgym.config import RunConfig
from harnessgym.duration import Duration
from harnessgym.errors import ConfigError
from harnessgym.options import ConfigCommand, cli_spelling, field_specs, fields_from_cli, tool_options
from harnessgym.serve import ServeSettings, build_server
from harnessgym.serve._common import PATH_NOTE, tool_spelling
from harnessgym.serve._run_tools import start_run
from runners import RUNNERS, RunnerName, RunnerOptions

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[3]

DERIVED = {
    RunConfig: {"schema_version", "attempt_only", "codex_watch"},
    CompareConfig: {"codex_watch"},
    ServeSettings: set(),
}
"""Fields nobody gives: the record's version; attempt-only, which ``compare`` sets for its trials; the runner's
``codex_watch``, which ``--watch`` sets."""
CLI_FRONT_END = {
    RunConfig: {"workspace": "--workspace", "task_text": "--task-text", "task_path": "--task"},
    CompareConfig: {"task_text": "--task-text", "task_path": "--task"},
    ServeSettings: {},
}
"""Fields the command line gathers by hand: the task is read from ``--task FILE`` (relative to the current
dir, then the workspace or template) or given as text; ``run``'s workspace defaults to the current dir."""
CLI_ONLY = {
    RunConfig: {"task", "resume_id"},
    CompareConfig: {"task", "upstream_build_timeout", "upstream_reflection_timeout", "upstream_build_after_solve"},
    ServeSettings: set(),
}
"""Options that are no field: ``--task FILE`` (read into task_text/task_path), ``--resume RUN_ID`` (continues a
recorded run, whose config is on disk), and HarnessGym 0.1.1's compare flags, accepted and ignored."""
TOOL_FRONT_END = {"start_run": {"workspace", "task_file", "task_text"}, "start_compare": {"task_file", "task_text"}}
"""Arguments that are no generated field: the workspace (resolved inside the allowed roots, default the first),
and the task, read from a file under the roots (``task_file`` = task_path) or given as text."""


def _own_params(command: click.Command) -> set[str]:
    return {p.name for p in command.params if p.name is not None}


def _by_name(command: click.Command) -> dict[str, click.Parameter]:
    return {p.name: p for p in command.params if p.name is not None}


@pytest.mark.parametrize(("command", "model"), [(run, RunConfig), (compare, CompareConfig), (serve, ServeSettings)])
def test_every_config_field_is_an_option_of_its_command_and_no_option_is_invented(
    command: click.Command, model: type[Any]
) -> None:
    specs = field_specs(model)
    assert {s.name for s in specs if s.input == "derived"} == DERIVED[model]
    assert {s.name: s for s in specs if s.input == "front_end"}.keys() == CLI_FRONT_END[model].keys()
    params = _by_name(command)
    flags = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    for spec in specs:
        if spec.input == "derived":
            assert spec.name not in params
        elif spec.input == "front_end":
            assert CLI_FRONT_END[model][spec.name] in flags, f"{model.__name__}.{spec.name} is unreachable"
        else:
            assert spec.name in params, f"{model.__name__}.{spec.dotted} has no option in `{command.name}`"
            assert (spec.flags[0] if spec.flags else "--" + spec.name.replace("_", "-")) in params[spec.name].opts
    assert set(params) - {s.name for s in specs} == CLI_ONLY[model]


def test_every_runner_option_is_reachable_from_both_commands() -> None:
    for command in (run, compare):
        derived = {s.name for s in field_specs(RunnerOptions) if s.input == "derived"}
        assert set(RunnerOptions.model_fields) - derived <= _own_params(command)


def test_defaults_and_choices_on_the_command_line_are_the_models() -> None:
    params = _by_name(run)
    runner = params["runner"]
    assert isinstance(runner.type, click.Choice) and tuple(runner.type.choices) == ("auto", *RUNNERS)
    assert params["attempt_timeout"].default == "45m" and params["iterations"].default == 3
    assert params["task_state"].default == "continue" and _by_name(compare)["task_state"].default == "reset"
    assert "--no-restore-best" in params["restore_best"].secondary_opts
    assert "--claude-extra-arg" in params["claude_extra_args"].opts  # upstream's spelling


def test_the_command_line_gathers_fields_the_way_the_model_reads_them(tmp_path: Path) -> None:
    argv = ["--task-text", "t", "--attempt-timeouts", "5m,8m", "--verify-pass-env", "API_KEY",
            "--agent-env", "A=1", "--agent-env", "B=x=y", "--no-qualify-artifacts", "--claude-model", "m",
            "--fake-home", "h"]  # fmt: skip
    with run.make_context("run", argv) as ctx:
        fields = fields_from_cli(RunConfig, ctx.params)
    config = RunConfig.model_validate({"workspace": tmp_path, "task_text": "t", **fields})
    assert config.attempt_timeouts == (300.0, 480.0) and config.verify_pass_env == ("API_KEY",)
    assert config.runner_options.agent_env == {"A": "1", "B": "x=y"} and config.runner_options.claude_model == "m"
    assert config.runner_options.fake_home == Path("h").absolute() and config.qualify_artifacts is False
    untouched = {
        k for k, v in RunConfig.model_fields.items() if getattr(config, k) == v.get_default(call_default_factory=True)
    }
    assert {"iterations", "attempt_timeout", "runner", "harness_depth"} <= untouched


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async with Client(build_server(ServeSettings(allow_roots=(tmp_path,), state_dir=tmp_path / "state"))) as c:
        yield c


async def _schemas(client: Client) -> dict[str, dict[str, Any]]:
    return {t.name: t.input_schema for t in (await client.list_tools()).tools}


@pytest.mark.parametrize(("tool", "model"), [("start_run", RunConfig), ("start_compare", CompareConfig)])
async def test_every_config_field_is_an_argument_of_its_tool_and_no_argument_is_invented(
    client: Client, tool: str, model: type[Any]
) -> None:
    schema = (await _schemas(client))[tool]
    properties = schema["properties"]
    fields = {s.name for s in field_specs(model, flatten=False) if s.input == "option"}
    assert set(properties) == fields | TOOL_FRONT_END[tool]
    assert set(schema.get("required", [])) == {s.name for s in field_specs(model, flatten=False) if s.required
                                               and s.input == "option"}  # fmt: skip
    nested = properties["runner_options"]["anyOf"][0]
    assert set(nested["properties"]) == set(RunnerOptions.model_fields)
    for spec in field_specs(model, flatten=False):  # each argument says what it is, in the field's own words
        if spec.input == "option":
            assert properties[spec.name]["description"].startswith(spec.description)
    assert properties["runner"]["anyOf"][0]["enum"] == ["auto", *RUNNERS]
    assert {"type": "string"} in properties["attempt_timeout"]["anyOf"][0]["anyOf"]  # "45m" is allowed


async def test_start_iteration_takes_only_fields_of_the_run_config(client: Client) -> None:
    properties = set((await _schemas(client))["start_iteration"]["properties"])
    own = {"workspace", "run_id", "task_file", "task_text", "allow_solved"}
    assert properties - own <= set(RunConfig.model_fields) and "attempt_timeout" in properties


class _WithThrowaway(RunConfig):
    throwaway_grace: Duration = Field(default=7.0, json_schema_extra={"section": "Time limits"})
    """Grace period of the throwaway check, declared only here."""


async def test_a_field_added_to_the_config_alone_reaches_help_the_tool_schema_and_the_json_schema() -> None:
    command = run.with_model(_WithThrowaway) if isinstance(run, ConfigCommand) else None
    assert command is not None
    out = CliRunner().invoke(command, ["--help"], prog_name="harnessgym run", terminal_width=200).output
    limits = out.split("Time limits:")[1].split("Artifacts:")[0]
    assert "--throwaway-grace DURATION" in limits and "Grace period of the throwaway check" in limits
    assert "[default: 7s]" in limits
    with command.make_context("run", ["--task-text", "t", "--throwaway-grace", "2m"]) as ctx:
        assert fields_from_cli(_WithThrowaway, ctx.params)["throwaway_grace"] == 120.0

    server: MCPServer[Any] = MCPServer("throwaway")
    server.add_tool(tool_options(_WithThrowaway, path_note=PATH_NOTE)(start_run.__wrapped__), name="start_run")
    async with Client(server) as client:
        argument = (await _schemas(client))["start_run"]["properties"]["throwaway_grace"]
    assert argument["description"] == "Grace period of the throwaway check, declared only here. Default: 7s."

    described = _WithThrowaway.model_json_schema()["properties"]["throwaway_grace"]
    assert described["description"] == "Grace period of the throwaway check, declared only here."
    assert described["section"] == "Time limits"
    assert "throwaway_grace" not in RunConfig.model_fields


def test_runner_names_are_declared_once() -> None:
    from typing import get_args

    # A run may also ask for "auto" (the first agent CLI on the PATH); the rest are the registry's names.
    assert tuple(RUNNERS) == get_args(RunnerName) == get_args(RunConfig.model_fields["runner"].annotation)[1:]
    assert get_args(CompareConfig.model_fields["runner"].annotation) == ("auto", *get_args(RunnerName))


def test_each_front_end_spells_a_config_error_its_own_way() -> None:
    error = ConfigError("x holds trials; pass {overwrite=true}, or {require_active_harness=false}", "output_dir",
                        more=[ConfigError("'45x' is not a duration", "attempt_timeout"),
                              ConfigError("unknown", "runner_options.codex_model")])  # fmt: skip
    assert error.render(cli_spelling(CompareConfig)) == (
        "--output-dir: x holds trials; pass --overwrite, or --no-require-active-harness; "
        "--attempt-timeout: '45x' is not a duration; --codex-model: unknown"
    )
    assert error.render(tool_spelling) == (
        "output_dir: x holds trials; pass overwrite=true, or require_active_harness=false; "
        "attempt_timeout: '45x' is not a duration; runner_options.codex_model: unknown"
    )
    assert str(error) == error.render(tool_spelling)
    task = ConfigError("unreadable; pass {task_text}", "task_path")
    assert (task.render(cli_spelling(RunConfig)), task.render(tool_spelling)) == (
        "--task: unreadable; pass --task-text",
        "task_file: unreadable; pass task_text",
    )


def test_a_rejected_config_names_every_field_at_fault() -> None:
    from harnessgym.options import build_config

    with pytest.raises(ConfigError) as caught:
        build_config(RunConfig, {"workspace": "/w", "task_text": "t", "iterations": 0, "runner": "gpt",
                                 "runner_options": {"bogus": 1}})  # fmt: skip
    assert [field for field, _ in caught.value.problems] == ["iterations", "runner", "runner_options.bogus"]
    assert "--iterations: Input should be greater than 0" in caught.value.render(cli_spelling(RunConfig))


def test_library_errors_never_spell_a_command_line_flag() -> None:
    """ConfigError texts name fields (``{field}``), and only the front ends spell them as flags."""
    offenders = []
    for path in sorted((ROOT / "harnessgym").rglob("*.py")):
        if path.parent.name in ("commands", "options", "serve") or path.name == "cli.py":  # the front ends
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "").endswith("Error"):
                texts = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                offenders += [f"{path.relative_to(ROOT)}:{node.lineno}" for t in texts if " --" in f" {t}"]
    assert offenders == []


def test_the_cli_help_names_real_sections_only_from_field_metadata() -> None:
    out = CliRunner().invoke(cli, ["compare", "--help"], terminal_width=200).output
    headings = [line for line in out.splitlines() if line.endswith(":") and not line.startswith(" ")]
    assert headings == ["Task:", "Trials:", "Suite:", "Running:", "Evidence:", "Time limits:", "Validity:",
                        "Statistics:", "Agent:", "Claude Code:", "Codex:", "Other options:"]  # fmt: skip
    assert "--build-timeout" not in out  # upstream's unused flags are accepted, not listed


@pytest.mark.parametrize("model", [RunConfig, CompareConfig, RunnerOptions, ServeSettings])
def test_every_field_says_what_it_is_and_where_help_lists_it(model: type[Any]) -> None:
    from harnessgym.options import SECTION_ORDER

    for spec in field_specs(model, flatten=False):
        assert spec.description, f"{model.__name__}.{spec.name} has no docstring"
        if spec.input != "derived" and spec.name != "runner_options":
            assert spec.section in SECTION_ORDER, f"{model.__name__}.{spec.name} is in no known --help section"


def test_a_tool_path_is_always_resolved_by_the_front_end() -> None:
    from harnessgym.options import fields_from_tool

    seen: list[tuple[str, str]] = []

    def inside(value: str, name: str) -> Path:
        seen.append((name, value))
        return Path("/roots") / value

    fields = fields_from_tool(CompareConfig, {"output_dir": "out", "seed": 3, "artifact_source": None}, inside)
    assert (fields, seen) == ({"output_dir": Path("/roots/out"), "seed": 3}, [("output_dir", "out")])
    with pytest.raises(ConfigError) as caught:
        fields_from_tool(CompareConfig, {"workspace_template": ["/etc"]}, inside)
    assert caught.value.field == "workspace_template" and seen == [("output_dir", "out")]
