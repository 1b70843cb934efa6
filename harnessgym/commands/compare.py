"""``harnessgym compare``: options → a CompareConfig → one library call. Top-level imports stay light."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import click

from harnessgym.commands._options import (
    agent_cli_options,
    duration,
    durations,
    read_task,
    runner_option,
    runner_options_from,
    task_options,
    validation_message,
    verify_pass_env_option,
)

__all__ = ["compare"]


@click.command(name="compare")
@task_options("the template")
@click.option(
    "--workspace-template",
    required=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="The clean starting point; each trial gets a fresh copy.",
)
@click.option(
    "--artifact-source",
    type=click.Path(path_type=Path, exists=True),
    help="A workspace (or its .harnessgym) whose non-quarantined artifacts the harnessed trials get "
    "[default: the template's own, if it has a registry].",
)
@click.option(
    "--output-dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Where trials and compare_report.json go.",
)
@click.option("--trials", type=click.IntRange(min=1), default=3, show_default=True, help="Trials per group.")
@click.option(
    "--iterations", type=click.IntRange(min=1), default=1, show_default=True, help="Attempts per trial (attempt-only)."
)
@runner_option
@click.option("--attempt-timeout", default="45m", callback=duration, show_default=True)
@click.option("--attempt-timeouts", callback=durations, help="Per-iteration limits, e.g. 5m,8m (last one reused).")
@click.option("--verify-timeout", default="2m", callback=duration, show_default=True)
@click.option("--task-state", type=click.Choice(["continue", "reset"]), default="reset", show_default=True)
@click.option(
    "--verify-command",
    help="Shell command harnessgym runs after each attempt; its verdict makes a trial solved. "
    "At least one of --verify-command and --post-command is required.",
)
@click.option(
    "--post-command",
    help="Shell command run once on each trial's final workspace; its JSON score is compared between the "
    "groups (and, without --verify-command, its passing makes a trial solved).",
)
@verify_pass_env_option
@click.option("--post-score-key", help="Where the post score is in its JSON [default: --score-key].")
@click.option("--post-timeout", default="2m", callback=duration, show_default=True)
@click.option("--score-key", default="score", show_default=True)
@click.option("--stop-score", type=float)
@click.option("--higher-is-better", is_flag=True)
@click.option(
    "--require-active-harness/--no-require-active-harness",
    default=True,
    show_default=True,
    help="A harnessed trial with no active artifact is invalid.",
)
@click.option(
    "--require-harness-tool-use/--no-require-harness-tool-use",
    default=False,
    show_default=True,
    help="A harnessed trial without an MCP tool call is invalid.",
)
@click.option("--overwrite", is_flag=True, help="Replace the trials of an earlier comparison in --output-dir.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the trial order and the bootstrap.")
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Significance level of the primary test.",
)
# Accepted so that HarnessGym 0.1.1 command lines keep working; compare runs attempts only, so they are unused.
@click.option("--build-timeout", hidden=True, callback=duration, help="Unused (compare is attempt-only).")
@click.option("--reflection-timeout", hidden=True, callback=duration, help="Unused (compare is attempt-only).")
@click.option("--build-after-solve", hidden=True, is_flag=True, help="Unused (compare is attempt-only).")
@agent_cli_options
def compare(**opts: Any) -> None:
    """Replay plain against harnessed attempt-only sessions from a clean template, in a randomized order, and
    say with honest statistics whether the harness helped."""
    from harnessgym.errors import HarnessgymError

    try:
        config = _config(opts)
        report = _run_cli(config)
    except HarnessgymError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # the environment refused something (disk full, permissions, ...)
        raise click.ClickException(f"{exc}; the finished trials' trial.json files are kept") from None
    from harnessgym.compare.models import OutputLayout
    from harnessgym.compare.render import print_report

    print_report(report, OutputLayout(config.output_dir).report)
    if report.status == "interrupted":
        raise SystemExit(130)


def _config(opts: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    from harnessgym.compare.models import CompareConfig

    if bool(opts["task"]) == bool(opts["task_text"]):
        raise click.UsageError("pass exactly one of --task FILE and --task-text TEXT")
    runner_options = runner_options_from(opts)
    template = Path(opts["workspace_template"]).expanduser().absolute()
    task_path = None
    if opts["task"]:
        task_text, task_path = read_task(opts["task"], template)
    else:
        task_text = opts["task_text"]
    fields = {
        "task_text": task_text, "task_path": task_path, "workspace_template": template,
        "artifact_source": opts["artifact_source"], "output_dir": opts["output_dir"],
        "trials": opts["trials"], "iterations": opts["iterations"], "runner": opts["runner"],
        "runner_options": runner_options, "attempt_timeout": opts["attempt_timeout"],
        "attempt_timeouts": opts["attempt_timeouts"], "verify_command": opts["verify_command"],
        "verify_pass_env": opts["verify_pass_env"],
        "post_command": opts["post_command"], "post_score_key": opts["post_score_key"],
        "post_timeout": opts["post_timeout"],
        "verify_timeout": opts["verify_timeout"], "score_key": opts["score_key"], "stop_score": opts["stop_score"],
        "higher_is_better": opts["higher_is_better"], "task_state": opts["task_state"],
        "require_active_harness": opts["require_active_harness"],
        "require_harness_tool_use": opts["require_harness_tool_use"], "overwrite": opts["overwrite"],
        "seed": opts["seed"], "alpha": opts["alpha"],
    }  # fmt: skip
    try:
        return CompareConfig.model_validate(fields)
    except ValidationError as exc:
        raise click.UsageError(validation_message(exc)) from None


def _run_cli(config: Any) -> Any:
    """Run under anyio; SIGINT/SIGTERM stop the running trial and leave an ``interrupted`` report."""
    import anyio

    from harnessgym import store
    from harnessgym.commands.progress import ProgressPrinter
    from harnessgym.compare import compare_async
    from harnessgym.compare.models import GROUPS, CompareReport, OutputLayout, TrialKey, TrialRecord
    from harnessgym.compare.render import trial_line
    from harnessgym.errors import HarnessgymError

    printer = ProgressPrinter()
    printer.expect(GROUPS, config.trials)
    outcome: dict[str, Any] = {}

    def on_trial(key: TrialKey, position: int, total: int, record: TrialRecord | None) -> None:
        style = "dim" if record is None else "cyan" if record.valid else "yellow"
        printer.say(trial_line(key, position, total, record), style)
        took = None
        if record is not None and record.finished_at is not None:
            took = (record.finished_at - record.started_at).total_seconds()
        printer.trial(key.group, config.trials, started=record is None, seconds=took)

    async def main() -> None:
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for signum in signals:
                        printer.say(f"{signal.Signals(signum).name}: stopping the running trial...", "bold red")
                        tg.cancel_scope.cancel()
                        return

            tg.start_soon(watch)
            try:
                outcome["report"] = await compare_async(config, on_trial, _trial_events(printer))
            except HarnessgymError as exc:  # raised again outside the task group, unwrapped
                outcome["error"] = exc
            tg.cancel_scope.cancel()

    with printer.running():
        anyio.run(main)
    if "error" in outcome:
        raise outcome["error"]
    if "report" in outcome:
        return outcome["report"]
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
