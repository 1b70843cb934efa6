"""``harnessgym compare``: options → a CompareConfig → one library call. Top-level imports stay light."""

from __future__ import annotations

import signal
from typing import Any

import click

from harnessgym.commands._options import task_fields, task_options
from harnessgym.options import ConfigCommand, cli_errors

__all__ = ["compare"]

_MODEL = "harnessgym.compare.models:CompareConfig"
"""Every option of ``compare`` but those below is generated from this model's fields (see harnessgym.options)."""

_UNUSED = "Unused (compare is attempt-only); accepted so that HarnessGym 0.1.1 command lines keep working."


@click.command(name="compare", cls=ConfigCommand, model=_MODEL, placed={"task": "Task"})
@task_options("the template")
# Upstream's flags that mean nothing to an attempt-only comparison: accepted and ignored, never listed.
@click.option("--build-timeout", "upstream_build_timeout", hidden=True, help=_UNUSED)
@click.option("--reflection-timeout", "upstream_reflection_timeout", hidden=True, help=_UNUSED)
@click.option("--build-after-solve", "upstream_build_after_solve", hidden=True, is_flag=True, help=_UNUSED)
def compare(**opts: Any) -> None:
    """Replay plain against harnessed attempt-only sessions from a clean template, in a randomized order, and
    say with honest statistics whether the harness helped."""
    from harnessgym.compare.models import CompareConfig

    with cli_errors(CompareConfig):
        try:
            config = _config(opts)
            report = _run_cli(config)
        except OSError as exc:  # the environment refused something (disk full, permissions, ...)
            raise click.ClickException(f"{exc}; the finished trials' trial.json files are kept") from None
    from harnessgym.compare.models import OutputLayout
    from harnessgym.compare.render import print_report

    print_report(report, OutputLayout(config.output_dir).report)
    if report.status == "interrupted":
        raise SystemExit(130)


def _config(opts: dict[str, Any]) -> Any:
    from harnessgym.compare.models import CompareConfig
    from harnessgym.options import cli_config, fields_from_cli

    fields = fields_from_cli(CompareConfig, opts)
    return cli_config(CompareConfig, {**task_fields(opts, fields["workspace_template"]), **fields})


def _run_cli(config: Any) -> Any:
    """Run under anyio; SIGINT/SIGTERM stop the running trial and leave an ``interrupted`` report."""
    from harnessgym import store
    from harnessgym.commands._signals import run_until_signalled
    from harnessgym.commands.progress import ProgressPrinter
    from harnessgym.compare import compare_async
    from harnessgym.compare.models import GROUPS, CompareReport, OutputLayout, TrialKey, TrialRecord
    from harnessgym.compare.render import trial_line

    printer = ProgressPrinter()
    printer.expect(GROUPS, config.trials)

    def on_trial(key: TrialKey, position: int, total: int, record: TrialRecord | None) -> None:
        style = "dim" if record is None else "cyan" if record.valid else "yellow"
        printer.say(trial_line(key, position, total, record), style)
        took = None
        if record is not None and record.finished_at is not None:
            took = (record.finished_at - record.started_at).total_seconds()
        printer.trial(key.group, config.trials, started=record is None, seconds=took)

    def on_signal(signum: signal.Signals) -> None:
        printer.say(f"{signum.name}: stopping the running trial...", "bold red")

    with printer.running():
        finished: CompareReport | None = run_until_signalled(
            lambda: compare_async(config, on_trial, _trial_events(printer)), on_signal
        )
    if finished is not None:
        return finished
    report = store.read_model(OutputLayout(config.output_dir).report, CompareReport)
    if report is None:
        raise click.ClickException("the comparison was interrupted before it recorded anything")
    return report


def _trial_events(printer: Any) -> Any:
    """A trial's run events for the live display: every one feeds the status line, and only the agent's tool
    calls, the host's MCP calls and warnings print (the trial lines already frame each run)."""
    shown = {"agent_action", "mcp_call", "warning"}

    def on_event(event: Any) -> None:
        if event.kind in shown:
            printer(event)
        else:
            printer.note(event)

    return on_event
