"""One report, two renderings: a self-contained HTML page (inline CSS and SVG, no script, nothing fetched) and
its Markdown twin, both from the same :class:`Page` so they never disagree."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Page", "Section", "Table", "to_html", "to_markdown"]


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Section:
    heading: str
    notes: Sequence[str] = ()
    """Paragraphs of plain text."""
    svg: str | None = None
    """A plot (inline SVG); the HTML page shows it, the Markdown twin says it is in the page."""
    table: Table | None = None


@dataclass(frozen=True)
class Page:
    title: str
    facts: Sequence[tuple[str, str]] = ()
    """Label and value pairs shown at the top."""
    sections: Sequence[Section] = field(default_factory=list)


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; color: #222; background: #fff; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 1rem 0; }
dl.facts dt { font-weight: 600; color: #555; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: .3rem .7rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
figure { margin: .8rem 0; }
figure svg { max-width: 100%; height: auto; }
p.note { color: #444; }
footer { margin-top: 3rem; color: #888; font-size: .8rem; }
"""


def to_html(page: Page) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(page.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(page.title)}</h1>",
    ]
    if page.facts:
        parts.append('<dl class="facts">')
        parts += [f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in page.facts]
        parts.append("</dl>")
    for section in page.sections:
        parts.append(f"<section><h2>{esc(section.heading)}</h2>")
        parts += [f'<p class="note">{esc(note)}</p>' for note in section.notes]
        if section.svg:
            parts.append(f"<figure>{section.svg}</figure>")
        if section.table is not None:
            parts.append("<table><thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in section.table.columns)
                         + "</tr></thead><tbody>")  # fmt: skip
            for row in section.table.rows:
                parts.append("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>")
            parts.append("</tbody></table>")
        parts.append("</section>")
    parts.append("<footer>Written by harnessgym report; plots drawn with matplotlib.</footer></body></html>")
    return "\n".join(parts) + "\n"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(page: Page, html_name: str) -> str:
    lines = [f"# {page.title}", ""]
    lines += [f"- **{k}**: `{v}`" for k, v in page.facts]
    for section in page.sections:
        lines += ["", f"## {section.heading}", ""]
        for note in section.notes:
            lines += [note, ""]
        if section.svg:
            lines += [f"*(plot in [{html_name}]({html_name}))*", ""]
        if section.table is not None:
            lines.append("| " + " | ".join(_cell(c) for c in section.table.columns) + " |")
            lines.append("|" + "---|" * len(section.table.columns))
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in section.table.rows]
    return "\n".join(lines).rstrip() + "\n"
