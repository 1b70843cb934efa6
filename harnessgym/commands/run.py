"""``harnessgym run``: options → a RunConfig → one library call. Top-level imports stay light (click, stdlib)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import click

from harnessgym.commands._options import announce_runner, task_fields, task_options
from harnessgym.options import ConfigCommand

__all__ = ["run"]

_MODEL = "harnessgym.config:RunConfig"
"""Every option of ``run`` but those below is generated from this model's fields (see harnessgym.options)."""


@click.command(name="run", cls=ConfigCommand, model=_MODEL, placed={"task": "Task", "resume_id": "Run"})
@task_options("the workspace")
@click.option(
    "--workspace",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="The agent's working directory.",
)
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Continue an interrupted run in --workspace.")
def run(**opts: Any) -> None:
    """Run the agent on a task for up to N iterations, building and qualifying tools between attempts."""
    from harnessgym.commands._outcome import early_signals, signal_exit_code

    early_signals()  # a Ctrl-C or SIGTERM from here on ends with 128 + signum and a resume hint
    workspace = Path(opts["workspace"]).expanduser().absolute()
    ids: dict[str, str] = {"run_id": opts["resume_id"] or opts.get("run_id") or ""}
    try:
        if opts["resume_id"]:
            changes = _resume_changes(opts, workspace)
            _announce_recorded_runner(workspace, opts["resume_id"])
            outcome = _run_cli(lambda on_event: _resume(workspace, opts["resume_id"], on_event, changes), workspace)
        else:
            config = _config(opts, workspace)
            ids["run_id"] = config.run_id
            outcome = _run_cli(lambda on_event: _start(config, on_event), workspace)
    except BaseException as exc:  # the CLI's outer edge: one line, the right exit code
        _fail(exc, workspace, ids["run_id"])
        raise
    summary, signum = outcome
    from harnessgym.commands.progress import print_summary

    print_summary(summary)
    if summary.status == "interrupted":
        click.echo(f"Resume with: harnessgym run --resume {summary.run_id} --workspace {workspace}", err=True)
        raise SystemExit(signal_exit_code(signum))
    if summary.status == "error":
        raise SystemExit(1)


def _fail(exc: BaseException, workspace: Path, run_id: str) -> None:
    """Turn what stopped the command into one message and an exit code; return only for what is not ours to
    explain (click's own exits, bugs), which the caller re-raises."""
    from harnessgym.commands._outcome import EarlySignal, environment_message, leaf_error, signal_exit_code
    from harnessgym.config import RunConfig
    from harnessgym.errors import ConfigError, HarnessgymError
    from harnessgym.options import cli_message

    leaf = leaf_error(exc)
    if isinstance(leaf, EarlySignal | KeyboardInterrupt):
        signum = leaf.signum if isinstance(leaf, EarlySignal) else signal.SIGINT
        run_dir = workspace / ".harnessgym" / "runs" / run_id
        if run_id and (run_dir / "journal.jsonl").exists():
            hint = f"Resume with: harnessgym run --resume {run_id} --workspace {workspace}"
        else:
            hint = "the run had not started, so nothing was recorded; run the command again"
        click.echo(f"{signal.Signals(signum).name}: stopped. {hint}", err=True)
        raise SystemExit(signal_exit_code(signum)) from None
    if isinstance(leaf, ConfigError):
        raise click.ClickException(cli_message(leaf, RunConfig)) from None
    if isinstance(leaf, HarnessgymError):
        raise click.ClickException(str(leaf)) from None
    if isinstance(leaf, OSError):  # the environment refused something mid-run (disk full, permissions, ...)
        kept = "everything recorded so far is kept, and an interrupted run can be continued with --resume"
        raise click.ClickException(environment_message(leaf, workspace, kept)) from None


def _config(opts: dict[str, Any], workspace: Path) -> Any:
    from harnessgym.config import RunConfig
    from harnessgym.options import cli_config, fields_from_cli

    fields = {"workspace": workspace, **task_fields(opts, workspace), **fields_from_cli(RunConfig, opts)}
    config = cli_config(RunConfig, fields)
    return config.model_copy(update={"runner": announce_runner(config.runner, config.runner_options)})


async def _start(config: Any, on_event: Any) -> Any:
    from harnessgym.jobs.api import run_async

    return await run_async(config, on_event)


async def _resume(workspace: Path, run_id: str, on_event: Any, changes: dict[str, Any]) -> Any:
    from harnessgym.config import RunConfig
    from harnessgym.jobs.api import resume_async
    from harnessgym.options import cli_spelling

    spell = cli_spelling(RunConfig)
    return await resume_async(workspace, run_id, on_event, changes=changes, spell=lambda name: spell(name, None))


def _announce_recorded_runner(workspace: Path, run_id: str) -> None:
    from harnessgym import store
    from harnessgym.config import RunConfig
    from harnessgym.store.layout import Layout

    recorded = store.read_model(Layout(workspace).run(run_id).config, RunConfig)
    if recorded is not None:
        click.echo(f"{time.strftime('%H:%M:%S')} Runner: {recorded.runner} (recorded in run {run_id})", err=True)


def _resume_changes(opts: dict[str, Any], workspace: Path) -> dict[str, Any]:
    """The options given on the command line with ``--resume``, as config fields (dotted for nested ones), for
    the library to apply or refuse; options left at their defaults are not given."""
    from click.core import ParameterSource

    from harnessgym.config import RunConfig
    from harnessgym.options import field_specs

    ctx = click.get_current_context()
    given = {
        name
        for name in opts
        if name not in ("workspace", "resume_id")
        and ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    }
    changes: dict[str, Any] = {}
    if "task" in given or "task_text" in given:
        changes["task_text"] = task_fields(opts, workspace)["task_text"]
    for spec in field_specs(RunConfig):
        if spec.name in given and spec.input == "option":
            value = opts[spec.name]
            changes[spec.dotted] = value.expanduser().absolute() if isinstance(value, Path) else value
    return changes  # fmt: skip


def _run_cli(start: Any, workspace: Path) -> tuple[Any, int]:
    """Run under anyio; SIGINT/SIGTERM cancel the run (which kills the agent tree and records the interruption).
    Returns the summary and the signal that stopped the run (SIGINT when none did)."""
    from harnessgym.commands._signals import run_until_signalled
    from harnessgym.commands.progress import ProgressPrinter
    from harnessgym.records import RunSummary

    printer = ProgressPrinter()
    stopped: list[int] = []

    def on_signal(signum: signal.Signals) -> None:
        stopped.append(int(signum))
        printer.say(f"{signum.name}: stopping the agent...", "bold red")

    with printer.running():
        summary: RunSummary | None = run_until_signalled(lambda: start(printer), on_signal)
    signum = stopped[0] if stopped else int(signal.SIGINT)
    return (summary if summary is not None else _interrupted_summary(workspace)), signum


def _interrupted_summary(workspace: Path) -> Any:
    """The summary the cancelled run wrote (the newest run of the workspace)."""
    from harnessgym import store
    from harnessgym.records import RunSummary
    from harnessgym.store.layout import Layout

    layout = Layout(workspace)
    runs = sorted(layout.runs.iterdir(), key=lambda d: d.stat().st_mtime) if layout.runs.is_dir() else []
    for run_dir in reversed(runs):
        summary = store.read_model(layout.run(run_dir.name).summary, RunSummary)
        if summary is not None:
            return summary
    raise click.ClickException("the run was interrupted before it recorded anything")
