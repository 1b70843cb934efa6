"""``harnessgym run``: options → a RunConfig → one library call. Top-level imports stay light (click, stdlib)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import click

from harnessgym.commands._options import task_fields, task_options
from harnessgym.options import ConfigCommand, cli_errors

__all__ = ["run"]

_MODEL = "harnessgym.config:RunConfig"
"""Every option of ``run`` but those below is generated from this model's fields (see harnessgym.options)."""


@click.command(name="run", cls=ConfigCommand, model=_MODEL, placed={"task": "Task", "resume_id": "Run"})
@task_options("the workspace")
@click.option("--workspace", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="The agent's working directory.")
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Continue an interrupted run in --workspace.")
def run(**opts: Any) -> None:
    """Run the agent on a task for up to N iterations, building and qualifying tools between attempts."""
    from harnessgym.config import RunConfig

    workspace = Path(opts["workspace"]).expanduser().absolute()
    with cli_errors(RunConfig):
        try:
            if opts["resume_id"]:
                summary = _run_cli(lambda on_event: _resume(workspace, opts["resume_id"], on_event), workspace)
            else:
                config = _config(opts, workspace)
                summary = _run_cli(lambda on_event: _start(config, on_event), workspace)
        except OSError as exc:  # the environment refused something mid-run (disk full, permissions, ...)
            raise click.ClickException(
                f"{exc}; everything recorded so far is kept, and an interrupted run can be continued with --resume"
            ) from None
    from harnessgym.commands.progress import print_summary

    print_summary(summary)
    if summary.status == "interrupted":
        click.echo(f"Resume with: harnessgym run --resume {summary.run_id} --workspace {workspace}", err=True)
        raise SystemExit(130)
    if summary.status == "error":
        raise SystemExit(1)


def _config(opts: dict[str, Any], workspace: Path) -> Any:
    from harnessgym.config import RunConfig
    from harnessgym.options import cli_config, fields_from_cli

    fields = {"workspace": workspace, **task_fields(opts, workspace), **fields_from_cli(RunConfig, opts)}
    return cli_config(RunConfig, fields)


async def _start(config: Any, on_event: Any) -> Any:
    from harnessgym.jobs.api import run_async

    return await run_async(config, on_event)


async def _resume(workspace: Path, run_id: str, on_event: Any) -> Any:
    from harnessgym.jobs.api import resume_async

    return await resume_async(workspace, run_id, on_event)


def _run_cli(start: Any, workspace: Path) -> Any:
    """Run under anyio; SIGINT/SIGTERM cancel the run (which kills the agent tree and records the interruption)."""
    from harnessgym.commands._signals import run_until_signalled
    from harnessgym.commands.progress import ProgressPrinter
    from harnessgym.records import RunSummary

    printer = ProgressPrinter()

    def on_signal(signum: signal.Signals) -> None:
        printer.say(f"{signum.name}: stopping the agent...", "bold red")

    with printer.running():
        summary: RunSummary | None = run_until_signalled(lambda: start(printer), on_signal)
    return summary if summary is not None else _interrupted_summary(workspace)


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
