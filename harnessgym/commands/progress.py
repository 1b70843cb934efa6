"""A compact progress display for the CLI: one line per event that matters, drawn with rich."""

from __future__ import annotations

from rich.console import Console

from harnessgym.events import RunEvent
from harnessgym.records import RunSummary

__all__ = ["ProgressPrinter", "print_summary"]

_STYLE = {
    "run_started": "bold",
    "run_resumed": "bold",
    "run_continued": "bold",
    "iteration_started": "bold cyan",
    "phase_started": "dim",
    "verdict": "magenta",
    "warning": "yellow",
    "iteration_finished": "cyan",
    "run_finished": "bold green",
    "run_interrupted": "bold red",
}


class ProgressPrinter:
    """Prints events to stderr; ``phase_finished`` lines are folded away to stay compact."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)

    def __call__(self, event: RunEvent) -> None:
        if event.kind == "phase_finished":
            return
        stamp = event.at.strftime("%H:%M:%S")
        style = _STYLE.get(event.kind, "")
        self.console.print(f"[dim]{stamp}[/dim] [{style}]{event.message}[/{style}]" if style else event.message)


def print_summary(summary: RunSummary, console: Console | None = None) -> None:
    """The final lines, on stdout: what upstream printed plus the kind of evidence behind "solved"."""
    out = console or Console(highlight=False, soft_wrap=True)
    verified = summary.solved and summary.evidence == "verified"
    out.print(f"Run id: {summary.run_id}")
    out.print(f"Run artifacts: {summary.run_dir}")
    out.print(f"Final status: {summary.status}")
    out.print(f"Solved: {summary.solved}" + (f" (iteration {summary.solved_iteration})" if summary.solved else ""))
    out.print(f"Evidence: {summary.evidence}")
    out.print(f"Solved and verified: {verified}")
    opt = summary.optimization
    if opt is not None:
        def show(value: float | None) -> str:
            return "none" if value is None else f"{value:g}"

        out.print(f"Optimization improved: {opt.improved}")
        out.print(f"Baseline score: {show(opt.baseline_score)}")
        where = {None: "", 0: " (baseline)"}.get(opt.best_iteration, f" (iteration {opt.best_iteration})")
        out.print(f"Best score: {show(opt.best_score)}{where}")
    elif summary.best_score is not None:
        out.print(f"Best score: {summary.best_score:g}")
    restored = summary.restored_best
    if restored is not None and restored.restored:
        after = restored.post_restore_score
        out.print(f"Restored best: iteration {restored.iteration}, re-measured "
                  f"{'passed' if restored.post_restore_passed else 'not passed'}"
                  + (f", score {after:g}" if after is not None else ""))
    elif restored is not None and restored.reason == "failed":
        out.print(f"Restored best: {restored.message}")
    if summary.cost_usd is not None:
        out.print(f"Cost: ${summary.cost_usd:.4f}")
    if summary.active_artifacts or summary.quarantined_artifacts:
        active, quarantined = len(summary.active_artifacts), len(summary.quarantined_artifacts)
        out.print(f"Artifacts: {active} active, {quarantined} quarantined")
    if summary.message:
        out.print(summary.message)
