"""``harnessgym report``: one self-contained HTML page and its Markdown twin for a run or a comparison.

The page works offline: CSS and the plots (matplotlib, as SVG with fonts drawn as paths) are inline, and it
has no script and no link or image that would be fetched. matplotlib is imported only when a page is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harnessgym.errors import HarnessgymError

__all__ = ["ReportError", "WrittenReport", "find_target", "write_report"]


class ReportError(HarnessgymError):
    """PATH is neither a run folder, a workspace with runs, nor a comparison's output folder."""


@dataclass(frozen=True)
class WrittenReport:
    html: Path
    markdown: Path


def find_target(path: Path) -> tuple[str, Path]:
    """(``"run"`` or ``"compare"``, the folder): a run folder, a workspace (its newest run), or a comparison."""
    from harnessgym.compare.models import OutputLayout
    from harnessgym.store.layout import Layout

    if OutputLayout(path).report.is_file():
        return "compare", path
    if path.parent.name == "runs" and path.parent.parent.name == ".harnessgym":
        return "run", path
    runs = Layout(path).runs
    if runs.is_dir():
        newest = sorted((d for d in runs.iterdir() if d.is_dir()), key=lambda d: d.name)
        if newest:
            return "run", newest[-1]
    raise ReportError(f"{path} is neither a run folder (.harnessgym/runs/<id>), a workspace with runs, nor a "
                      "comparison folder with compare_report.json; `harnessgym runs list` and `harnessgym compares "
                      "list` find them")  # fmt: skip


def write_report(path: Path, output: Path | None = None) -> WrittenReport:
    """Write ``report.html`` and ``report.md`` (in ``path`` unless ``output`` names the HTML file)."""
    from harnessgym import store
    from harnessgym.compare.models import CompareReport, OutputLayout
    from harnessgym.report.page import to_html, to_markdown

    kind, folder = find_target(path)
    if kind == "compare":
        from harnessgym.report.compare import compare_page

        report = store.read_model(OutputLayout(folder).report, CompareReport)
        if report is None:
            raise ReportError(f"{OutputLayout(folder).report} cannot be read as a comparison report")
        page = compare_page(folder, report)
    else:
        from harnessgym.report.run import run_page

        page = run_page(folder)
    html_path = output if output is not None else folder / "report.html"
    md_path = html_path.with_suffix(".md")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    store.write_atomic(html_path, to_html(page))
    store.write_atomic(md_path, to_markdown(page, html_path.name))
    return WrittenReport(html=html_path, markdown=md_path)
