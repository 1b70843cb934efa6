"""The report's plots, drawn by matplotlib and returned as inline SVG (fonts as paths, no external reference).

Figures are built with :class:`matplotlib.figure.Figure` directly, never pyplot: no global state, no GUI
backend, safe to call from any thread.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["Interval", "artifact_timeline", "forest", "mcp_calls", "phase_durations", "scores"]

_PALETTE = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb")
"""Paul Tol's colour-blind safe qualitative scheme."""
_VERDICT_COLOURS = {"passed": "#228833", "failed": "#ee6677", "skipped": "#bbbbbb", "not_qualified": "#ccbb44"}


@dataclass(frozen=True)
class Interval:
    """One row of a forest plot: an estimate with its interval."""

    label: str
    estimate: float
    low: float
    high: float


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=96, layout="constrained")
    fig.patch.set_alpha(0)
    return fig


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    # Inline in HTML: drop the XML declaration and the DOCTYPE (which names a DTD by URL).
    text = re.sub(r"^<\?xml[^>]*>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    # matplotlib repeats every label in a comment (escaped, but quotes kept): labels the agent chose stay out.
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return text.strip()


def _style(ax: object) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)  # type: ignore[attr-defined]
    ax.grid(axis="y", alpha=0.3)  # type: ignore[attr-defined]


def scores(
    iterations: Sequence[int],
    values: Sequence[float | None],
    best: Sequence[float | None],
    baseline: float | None,
    *,
    label: str = "score",
    lower_is_better: bool = True,
) -> str:
    """Score per iteration, the best so far as a step line, and the baseline as a dashed line."""
    fig = _figure(6.4, 3.0)
    ax = fig.add_subplot()
    points = [(i, v) for i, v in zip(iterations, values, strict=True) if v is not None]
    if points:
        ax.plot(*zip(*points, strict=True), "o-", color=_PALETTE[0], label=label)
    steps = [(i, b) for i, b in zip(iterations, best, strict=True) if b is not None]
    if steps:  # drawn as a line with end marks, so a single best point still shows
        ax.plot(*zip(*steps, strict=True), drawstyle="steps-post", marker="_", markersize=14, color=_PALETTE[2],
                linewidth=2, alpha=0.7, label="best so far")  # fmt: skip
    if baseline is not None:
        ax.axhline(baseline, color=_PALETTE[1], linestyle="--", label="baseline")
    ax.set_xticks(list(iterations))
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"{label} ({'lower' if lower_is_better else 'higher'} is better)")
    ax.legend(loc="best", frameon=False)
    _style(ax)
    return _svg(fig)


def mcp_calls(iterations: Sequence[int], by_tool: Mapping[int, Mapping[str, int]]) -> str:
    """MCP tool calls per iteration, stacked by tool."""
    tools = sorted({t for counts in by_tool.values() for t in counts})
    fig = _figure(6.4, 2.8)
    ax = fig.add_subplot()
    bottom = [0] * len(iterations)
    for k, tool in enumerate(tools):
        heights = [by_tool.get(i, {}).get(tool, 0) for i in iterations]
        ax.bar([str(i) for i in iterations], heights, bottom=bottom, color=_PALETTE[k % len(_PALETTE)], label=tool)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    if not tools:
        ax.bar([str(i) for i in iterations], bottom, color=_PALETTE[-1])
        ax.text(0.5, 0.5, "no MCP calls recorded", transform=ax.transAxes, ha="center", va="center")
    ax.set_xlabel("iteration")
    ax.set_ylabel("MCP calls")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if tools:
        ax.legend(loc="upper left", frameon=False, fontsize="small")
    _style(ax)
    return _svg(fig)


def phase_durations(iterations: Sequence[int], durations: Mapping[int, Mapping[str, float]],
                    phases: Sequence[str]) -> str:  # fmt: skip
    """Seconds per phase, one stacked horizontal bar per iteration."""
    fig = _figure(6.4, 1.0 + 0.45 * max(1, len(iterations)))
    ax = fig.add_subplot()
    left = [0.0] * len(iterations)
    labels = [f"iteration {i}" for i in iterations]
    for k, phase in enumerate(phases):
        widths = [durations.get(i, {}).get(phase, 0.0) for i in iterations]
        if any(widths):
            ax.barh(labels, widths, left=left, color=_PALETTE[k % len(_PALETTE)], label=phase)
        left = [a + w for a, w in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    fig.legend(loc="outside lower center", frameon=False, fontsize="small", ncols=min(4, len(phases)))
    _style(ax)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def artifact_timeline(artifacts: Sequence[str], events: Sequence[tuple[str, int, str]],
                      iterations: Sequence[int]) -> str:  # fmt: skip
    """Each artifact's verdicts over the iterations: ``events`` are (artifact, iteration, verdict)."""
    fig = _figure(6.4, 0.8 + 0.4 * max(1, len(artifacts)))
    ax = fig.add_subplot()
    rows = {name: k for k, name in enumerate(artifacts)}
    for verdict, colour in _VERDICT_COLOURS.items():
        hits = [(i, rows[a]) for a, i, v in events if v == verdict and a in rows]
        if hits:
            xs, ys = zip(*hits, strict=True)
            ax.scatter(xs, ys, s=120, color=colour, label=verdict, zorder=3)
    for name, k in rows.items():
        seen = sorted(i for a, i, _ in events if a == name)
        if seen:
            ax.hlines(k, seen[0], max(iterations), color="#888888", alpha=0.5, zorder=1)
    ax.set_yticks(range(len(artifacts)), [_artifact_label(a) for a in artifacts])
    ax.set_xticks(list(iterations))
    ax.set_xlim(min(iterations) - 0.5, max(iterations) + 0.5)
    ax.set_ylim(-0.7, len(artifacts) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel("iteration")
    ax.legend(loc="upper right", frameon=False, fontsize="small")
    _style(ax)
    return _svg(fig)


def forest(rows: Sequence[Interval], *, xlabel: str, zero: float = 0.0) -> str:
    """A forest plot: each row's estimate with its interval, and a line at no difference."""
    fig = _figure(6.4, 0.9 + 0.45 * max(1, len(rows)))
    ax = fig.add_subplot()
    for k, row in enumerate(rows):
        colour = _PALETTE[2] if row.low > zero else _PALETTE[1] if row.high < zero else _PALETTE[0]
        ax.plot([row.low, row.high], [k, k], color=colour, linewidth=2)
        ax.plot([row.estimate], [k], "D", color=colour, markersize=7)
    ax.axvline(zero, color="#444444", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(rows)), [_short(r.label, 40) for r in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    _style(ax)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def _short(text: str, limit: int = 36) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def _artifact_label(artifact_id: str) -> str:
    """``mcp:.harnessgym/mcp/numcheck/harnessgym-mcp.json`` -> ``mcp numcheck``: kind and the name of its folder
    (or file) under the kind's directory."""
    kind, _, path = artifact_id.partition(":")
    parts = [p for p in path.split("/") if p and p != ".harnessgym"]
    name = parts[1] if len(parts) > 2 else (parts[-1].rsplit(".", 1)[0] if parts else artifact_id)
    return _short(f"{kind} {name}" if path else artifact_id)
