"""The queries two models differ most on (`results.query_diff`): for the terminal (`compare --queries`), as an
HTML table with a filter box (`report`: self-contained script, no network) and as markdown."""

from __future__ import annotations

import html

from embedlab.results.query_diff import QueryAnalysis, QueryDiff, Ranked
from embedlab.results.table import LABELS, short_name

CAPTION = ("Δ = other − baseline per query; top 5 of each model's saved run: [grade] of a judged document, "
           "relevant ones marked; first relevant: its rank in the saved top 100 (– none there)")
FILTER_SCRIPT = """<script>
document.querySelectorAll('input.qfilter').forEach(function (box) {
  box.addEventListener('input', function () {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    document.getElementById(box.dataset.table).querySelectorAll('tbody tr').forEach(function (row) {
      var text = row.textContent.toLowerCase();
      row.hidden = !words.every(function (word) { return text.indexOf(word) >= 0; });
    });
  });
});
</script>"""
STYLE = """.qdiff{width:100%;table-layout:fixed}.qdiff td,.qdiff th{vertical-align:top;text-align:left}
.qdiff col.q{width:19%}.qdiff col.d{width:13%}.qdiff ol{margin:0;padding-left:1.4em}.qdiff li{margin-bottom:3px}
.qdiff .rel{color:#11772d;font-weight:bold}.qdiff .nonrel{color:#b00020}.qdiff small{color:#555}
input.qfilter{width:24em;padding:3px 6px}"""


def heading(a: QueryAnalysis) -> str:
    base, other = (short_name(m) for m in a.models)
    return (f"{a.task}: where {other} and {base} differ most ({LABELS.get(a.metric, a.metric)}; {other} wins "
            f"{a.wins}, loses {a.losses} of {a.of:,} queries)")


def first(rank: int | None) -> str:
    return "–" if rank is None else str(rank)


def mark(doc: Ranked) -> str:
    return "" if doc.grade is None else f"[{doc.grade}]"


def rich_analysis(a: QueryAnalysis):
    """One table: a block of rows per query (its line, then the two tops side by side)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    base, other = (short_name(m) for m in a.models)  # names, queries and documents as text, never rich markup
    table = Table(title=Text(heading(a)), title_justify="left", box=box.SIMPLE_HEAD, caption=Text(CAPTION),
                  caption_justify="left", show_lines=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column(Text(base), overflow="fold", ratio=1)
    table.add_column(Text(other), overflow="fold", ratio=1)
    for q in a.queries:
        table.add_row("", Text.assemble((q.query_id, "bold"), f" {q.query}"),
                      Text.assemble("Δ ", (f"{q.delta:+.3f}", "green" if q.delta > 0 else "red"),
                                    f" ({q.scores[0]:.3f} → {q.scores[1]:.3f}); {q.relevant} relevant"),
                      end_section=False)
        table.add_row("", f"first relevant: {first(q.first_relevant[0])}",
                      f"first relevant: {first(q.first_relevant[1])}")
        for rank in range(max(len(q.top[0]), len(q.top[1]))):
            table.add_row(str(rank + 1), *(_rich_doc(top[rank]) if rank < len(top) else "" for top in q.top),
                          end_section=rank == max(len(q.top[0]), len(q.top[1])) - 1)
    return table


def _rich_doc(doc: Ranked):
    from rich.text import Text

    style = "bold green" if doc.relevant else "red" if doc.grade == 0 else "dim"
    text = "(not in the corpus)" if doc.snippet is None else _cut(doc.snippet, 80)
    return Text.assemble((f"{doc.doc_id} {mark(doc)}", style), f" {text}")


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[:size - 1].rstrip() + "…"


def html_analysis(a: QueryAnalysis, table_id: str) -> str:
    base, other = (html.escape(short_name(m)) for m in a.models)
    head = "".join(f"<th>{h}</th>" for h in ("query", f"Δ<br><small>{base} → {other}<br>first relevant</small>",
                                            f"{base} top 5", f"{other} top 5"))
    rows = "".join(_html_row(q) for q in a.queries)
    return (f"<h3>{html.escape(heading(a))}</h3><p><input type='search' class='qfilter' data-table='{table_id}' "
            f"placeholder='filter: query, document id or text' aria-label='filter the queries'></p>"
            f"<table class='qdiff' id='{table_id}'><caption>{html.escape(CAPTION)}</caption><colgroup>"
            f"<col class='q'><col class='d'><col><col></colgroup><thead><tr>{head}</tr></thead><tbody>{rows}"
            "</tbody></table>")


def _html_row(q: QueryDiff) -> str:
    tops = "".join(f"<td><ol>{''.join(_html_doc(d) for d in top)}</ol></td>" for top in q.top)
    kind = "better" if q.delta > 0 else "worse"
    return (f"<tr><td><b>{html.escape(q.query_id)}</b> {html.escape(q.query)}<br><small>{q.relevant} relevant"
            f"</small></td><td><span class='{kind}'>{q.delta:+.3f}</span><br><small>{q.scores[0]:.3f} → "
            f"{q.scores[1]:.3f}<br>{first(q.first_relevant[0])} → {first(q.first_relevant[1])}</small></td>{tops}</tr>")


def _html_doc(doc: Ranked) -> str:
    kind = "rel" if doc.relevant else "nonrel" if doc.grade == 0 else ""
    text = "<i>not in the corpus</i>" if doc.snippet is None else html.escape(doc.snippet)
    return f"<li><span class='{kind}'>{html.escape(doc.doc_id)} {mark(doc)}</span> <small>{text}</small></li>"


def markdown_analysis(a: QueryAnalysis) -> list[str]:
    base, other = (short_name(m) for m in a.models)
    lines = [f"### {heading(a)}", "", f"| query | Δ | {base} | {other} | first relevant | {base} top 3 | "
             f"{other} top 3 |", "|---|---|---|---|---|---|---|"]
    for q in a.queries:
        tops = [", ".join(f"**{d.doc_id}**{mark(d)}" if d.relevant else f"{d.doc_id}{mark(d)}" for d in top[:3])
                for top in q.top]
        query = _cell(f"{q.query_id} {q.query}"[:80])
        lines.append(f"| {query} | {q.delta:+.3f} | {q.scores[0]:.3f} | {q.scores[1]:.3f} | "
                     f"{first(q.first_relevant[0])} / {first(q.first_relevant[1])} | {_cell(tops[0])} | "
                     f"{_cell(tops[1])} |")
    return [*lines, "", f"_{CAPTION}_", ""]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def html_sections(analyses: list[QueryAnalysis]) -> dict[str, list[str]]:
    """Task -> the HTML of its analyses (the filter script comes once, with `page_script`)."""
    out: dict[str, list[str]] = {}
    for index, a in enumerate(analyses):
        out.setdefault(a.task, []).append(html_analysis(a, f"qdiff-{index}"))
    return out


def page_script(analyses: list[QueryAnalysis]) -> str:
    """The style and the filter script, once per page that shows analyses."""
    return f"<style>{STYLE}</style>{FILTER_SCRIPT}" if analyses else ""


def query_parts(results, comparisons, n: int) -> tuple[dict[str, list[str]], dict[str, list[str]], list[str], str]:
    """For a report page: task -> HTML parts, task -> markdown lines, notes (what was skipped), and the style and
    script the page ends with; nothing when no run was saved or `n` is 0."""
    from embedlab.results.query_diff import query_analyses

    analyses, notes = query_analyses(results, comparisons, n) if results and n else ([], [])
    markdown: dict[str, list[str]] = {}
    for a in analyses:
        markdown.setdefault(a.task, []).extend(markdown_analysis(a))
    return html_sections(analyses), markdown, notes, page_script(analyses)
