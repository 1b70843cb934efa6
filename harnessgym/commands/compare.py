"""``harnessgym compare``: options → a CompareConfig → one library call. Top-level imports stay light."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import click

from harnessgym.commands._options import announce_runner, task_fields, task_options
from harnessgym.options import ConfigCommand

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
    """Replay plain against harnessed attempt-only sessions from a clean template (or across a task suite), in a
    seeded interleaved order, and say with honest statistics whether the harness helped."""
    from harnessgym.commands._outcome import (
        EarlySignal,
        early_signals,
        environment_message,
        leaf_error,
        signal_exit_code,
    )
    from harnessgym.compare.models import CompareConfig
    from harnessgym.errors import ConfigError, HarnessgymError
    from harnessgym.options import cli_message

    early_signals()  # a Ctrl-C or SIGTERM from here on ends with 128 + signum
    try:
        config = _config(opts)
        report, signum = _run_cli(config)
    except BaseException as exc:  # the CLI's outer edge: one line, the right exit code
        leaf = leaf_error(exc)
        if isinstance(leaf, EarlySignal | KeyboardInterrupt):
            signum = leaf.signum if isinstance(leaf, EarlySignal) else signal.SIGINT
            click.echo(f"{signal.Signals(signum).name}: stopped; the finished trials' trial.json files are kept",
                       err=True)  # fmt: skip
            raise SystemExit(signal_exit_code(signum)) from None
        if isinstance(leaf, ConfigError):
            raise click.ClickException(cli_message(leaf, CompareConfig)) from None
        if isinstance(leaf, HarnessgymError):
            raise click.ClickException(str(leaf)) from None
        if isinstance(leaf, OSError):  # the environment refused something (disk full, permissions, ...)
            out = Path(opts.get("output_dir") or ".").expanduser().absolute()
            kept = "the finished trials' trial.json files are kept"
            raise click.ClickException(environment_message(leaf, out, kept)) from None
        raise
    from harnessgym.compare.models import OutputLayout
    from harnessgym.compare.render import print_report

    print_report(report, OutputLayout(config.output_dir).report)
    if report.status == "interrupted":
        raise SystemExit(signal_exit_code(signum))
    unusable = [g for g in (report.plain, report.harnessed) if g.n_valid == 0]
    if unusable:  # no comparison was possible: say so in the exit code too, for scripts and CI
        why = "; ".join(
            f"{g.group}: 0 valid of {g.n_trials} ("
            + (", ".join(f"{kind} {n}" for kind, n in sorted(g.invalid_reasons.items())) or "no trials")
            + ")"
            for g in unusable
        )
        click.echo(f"Error: no valid comparison: {why}; see the trials' invalid_reason in the report", err=True)
        raise SystemExit(1)


def _config(opts: dict[str, Any]) -> Any:
    from harnessgym.compare.models import CompareConfig
    from harnessgym.options import cli_config, fields_from_cli

    fields = fields_from_cli(CompareConfig, opts)
    if fields.get("suite") is not None:  # the suite names its tasks and templates
        if opts["task"] or opts["task_text"] or fields.get("workspace_template") is not None:
            raise click.UsageError("pass either --suite or --workspace-template with --task/--task-text, not both")
        config = cli_config(CompareConfig, fields)
    elif fields.get("workspace_template") is None:
        raise click.UsageError("pass --workspace-template with --task or --task-text (or --suite SUITE.toml)")
    else:
        config = cli_config(CompareConfig, {**task_fields(opts, fields["workspace_template"]), **fields})
    return config.model_copy(update={"runner": announce_runner(config.runner, config.runner_options)})


def _run_cli(config: Any) -> tuple[Any, int]:
    """Run under anyio; SIGINT/SIGTERM stop the running trial and leave an ``interrupted`` report. Returns the
    report and the signal that stopped it (SIGINT when none did)."""
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

    stopped: list[int] = []

    def on_signal(signum: signal.Signals) -> None:
        stopped.append(int(signum))
        printer.say(f"{signum.name}: stopping the running trial...", "bold red")

    with printer.running():
        finished: CompareReport | None = run_until_signalled(
            lambda: compare_async(config, on_trial, _trial_events(printer)), on_signal
        )
    signum = stopped[0] if stopped else int(signal.SIGINT)
    if finished is not None:
        return finished, signum
    report = store.read_model(OutputLayout(config.output_dir).report, CompareReport)
    if report is None:
        raise click.ClickException("the comparison was interrupted before it recorded anything")
    return report, signum


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
