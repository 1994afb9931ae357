"""Tables and pages as markdown and HTML, built here once for every report: a table is a header and rows of cell
texts (`report` modules compute them), rendered by `markdown_table` / `html_table`; a page is `html_page`."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence

# the look every HTML page embedlab writes shares
BASE_STYLE = ("body{font-family:system-ui,sans-serif;max-width:1300px;margin:2em auto}table{border-collapse:collapse}"
              "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}td:first-child{text-align:left}"
              "caption{text-align:left;color:#555}")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A markdown table's lines; `|` and line breaks inside a cell are escaped, an empty cell kept visible."""
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ").strip() or " "

    return ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)]


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]], caption: str | None = None, *,
               cell_class: Callable[[str], str] | None = None) -> str:
    """An HTML table, every text escaped; `cell_class` gives a cell its CSS class from its text."""
    def td(text: str) -> str:
        css = cell_class(text) if cell_class else ""
        return f"<td class='{css}'>{html.escape(text)}</td>" if css else f"<td>{html.escape(text)}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(td(str(c)) for c in row) + "</tr>" for row in rows)
    caption_html = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{caption_html}<tr>{head}</tr>{body}</table>"


def html_page(title: str, body: str, style: str = "") -> str:
    """One self-contained page: nothing is fetched from the network."""
    return (f"<!doctype html><html><head><meta charset='utf-8'><meta name='generator' content='embedlab'>"
            f"<title>{html.escape(title)}</title><style>{BASE_STYLE}{style}</style></head><body>{body}</body></html>\n")


def human_bytes(n: float | None) -> str:
    """A size as people read it (`642.0 kB`, `1.2 MB`); '–' when unknown."""
    if n is None:
        return "–"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:g} B"


def png_img(png: bytes, alt: str = "plot") -> str:
    """A PNG inlined as an <img> (base64 data URI)."""
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
