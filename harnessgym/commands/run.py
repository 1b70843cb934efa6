"""``harnessgym run``: options → a RunConfig → one library call. Top-level imports stay light (click, stdlib)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import click

from harnessgym.commands._help import SectionedCommand
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

__all__ = ["run"]


_HELP_SECTIONS = (
    ("Task", ("task", "task_text", "workspace")),
    ("Run", ("iterations", "run_id", "resume_id", "task_state", "build_after_solve")),
    ("Evidence", ("verify_command", "verify_pass_env", "score_key", "stop_score", "higher_is_better",
                  "post_attempt_command", "post_attempt_score_key", "optimization_mode", "restore_best")),
    ("Time limits", ("attempt_timeout", "attempt_timeouts", "reflection_timeout", "build_timeout", "verify_timeout",
                     "post_attempt_timeout")),
    ("Artifacts", ("qualify_artifacts", "artifact_repair_attempts", "harness_depth")),
    ("Agent", ("runner", "fake_script")),
    ("Claude Code", ("claude_bin", "claude_model", "claude_permission_mode", "claude_max_budget_usd",
                     "claude_extra_args")),
    ("Codex", ("codex_bin", "codex_model", "codex_sandbox", "codex_config")),
)  # fmt: skip
"""How ``harnessgym run --help`` groups its options (by parameter name); anything unlisted follows at the end."""

@click.command(name="run", cls=SectionedCommand, sections=_HELP_SECTIONS)
@task_options("the workspace")
@click.option("--workspace", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@click.option("--iterations", type=click.IntRange(min=1), default=3, show_default=True)
@runner_option
@click.option("--attempt-timeout", default="45m", callback=duration, show_default=True)
@click.option("--attempt-timeouts", callback=durations, help="Per-iteration limits, e.g. 5m,8m (last one reused).")
@click.option("--reflection-timeout", callback=duration, help="Defaults to the build timeout.")
@click.option("--build-timeout", default="20m", callback=duration, show_default=True)
@click.option("--verify-timeout", default="2m", callback=duration, show_default=True)
@click.option("--task-state", type=click.Choice(["continue", "reset"]), default="continue", show_default=True)
@click.option("--build-after-solve", is_flag=True, help="Still reflect and build after a solved attempt.")
@click.option("--verify-command", help="Shell command harnessgym runs after each attempt; its verdict decides.")
@verify_pass_env_option
@click.option("--score-key", default="score", show_default=True)
@click.option("--stop-score", type=float)
@click.option("--higher-is-better", is_flag=True)
@click.option("--post-attempt-command", help="Shell command run after every attempt (after --verify-command); "
              "its JSON output gives the measured score.")
@click.option("--post-attempt-score-key", help="Where its score is in the JSON output (default: --score-key).")
@click.option("--post-attempt-timeout", default="2m", callback=duration, show_default=True)
@click.option("--optimization-mode", is_flag=True,
              help="Improve a measured score: baseline first, solved = --stop-score reached by measurement.")
@click.option("--restore-best/--no-restore-best", default=True, show_default=True,
              help="Optimization mode: put the best-scoring workspace back at the end.")
@click.option("--harness-depth", type=click.Choice(["standard", "deep"]), default="deep", show_default=True,
              help="How much tooling reflection and build ask for.")
@click.option("--run-id", help="Name of the run folder (default: a timestamp and random suffix).")
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Continue an interrupted run in --workspace.")
@click.option("--qualify-artifacts/--no-qualify-artifacts", default=True, show_default=True)
@click.option("--artifact-repair-attempts", type=click.IntRange(min=0), default=1, show_default=True)
@agent_cli_options
def run(**opts: Any) -> None:
    """Run the agent on a task for up to N iterations, building and qualifying tools between attempts."""
    from harnessgym.errors import HarnessgymError

    workspace = Path(opts["workspace"]).expanduser().absolute()
    try:
        if opts["resume_id"]:
            summary = _run_cli(lambda on_event: _resume(workspace, opts["resume_id"], on_event), workspace)
        else:
            config = _config(opts, workspace)
            summary = _run_cli(lambda on_event: _start(config, on_event), workspace)
    except HarnessgymError as exc:
        raise click.ClickException(str(exc)) from None
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
    from pydantic import ValidationError

    from harnessgym.config import RunConfig

    if bool(opts["task"]) == bool(opts["task_text"]):
        raise click.UsageError("pass exactly one of --task FILE and --task-text TEXT")
    runner_options = runner_options_from(opts)
    task_path = None
    if opts["task"]:
        task_text, task_path = read_task(opts["task"], workspace)
    else:
        task_text = opts["task_text"]
    fields = {
        "workspace": workspace, "task_text": task_text, "task_path": task_path,
        "iterations": opts["iterations"], "runner": opts["runner"],
        "attempt_timeout": opts["attempt_timeout"], "attempt_timeouts": opts["attempt_timeouts"],
        "build_timeout": opts["build_timeout"], "reflection_timeout": opts["reflection_timeout"],
        "verify_timeout": opts["verify_timeout"], "task_state": opts["task_state"],
        "build_after_solve": opts["build_after_solve"], "verify_command": opts["verify_command"],
        "verify_pass_env": opts["verify_pass_env"],
        "score_key": opts["score_key"], "stop_score": opts["stop_score"],
        "higher_is_better": opts["higher_is_better"], "qualify_artifacts": opts["qualify_artifacts"],
        "artifact_repair_attempts": opts["artifact_repair_attempts"],
        "post_attempt_command": opts["post_attempt_command"],
        "post_attempt_score_key": opts["post_attempt_score_key"],
        "post_attempt_timeout": opts["post_attempt_timeout"], "optimization_mode": opts["optimization_mode"],
        "restore_best": opts["restore_best"], "harness_depth": opts["harness_depth"],
        "runner_options": runner_options,
    }  # fmt: skip
    if opts["run_id"]:
        fields["run_id"] = opts["run_id"]
    try:
        return RunConfig.model_validate(fields)
    except ValidationError as exc:
        raise click.UsageError(validation_message(exc)) from None


async def _start(config: Any, on_event: Any) -> Any:
    from harnessgym.jobs.api import run_async

    return await run_async(config, on_event)


async def _resume(workspace: Path, run_id: str, on_event: Any) -> Any:
    from harnessgym.jobs.api import resume_async

    return await resume_async(workspace, run_id, on_event)


def _run_cli(start: Any, workspace: Path) -> Any:
    """Run under anyio; SIGINT/SIGTERM cancel the run (which kills the agent tree and records the interruption)."""
    import anyio

    from harnessgym.commands.progress import ProgressPrinter
    from harnessgym.errors import HarnessgymError
    from harnessgym.records import RunSummary

    printer = ProgressPrinter()
    outcome: dict[str, Any] = {}

    async def main() -> None:
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for signum in signals:
                        outcome["signal"] = signum
                        printer.say(f"{signal.Signals(signum).name}: stopping the agent...", "bold red")
                        tg.cancel_scope.cancel()
                        return

            tg.start_soon(watch)
            try:
                outcome["summary"] = await start(printer)
            except HarnessgymError as exc:  # raised again outside the task group, unwrapped
                outcome["error"] = exc
            tg.cancel_scope.cancel()

    with printer.running():
        anyio.run(main)
    if "error" in outcome:
        raise outcome["error"]
    if "summary" in outcome:
        summary: RunSummary = outcome["summary"]
        return summary
    return _interrupted_summary(workspace)


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
