"""A chunking grid (`results/chunks.py`) as a terminal table, markdown, and an HTML page with the plot of
quality against context tokens per query (the Pareto frontier drawn)."""

from __future__ import annotations

import html

from embedlab.report.figures import png, pyplot
from embedlab.report.markup import html_page, html_table, human_bytes, markdown_table, png_img
from embedlab.results.chunks import ChunkSummary, ConfigRow
from embedlab.results.table import short_name

HEADER = ["configuration", "score", "95% CI", "Δ", "CI of Δ", "p (Holm)", "recall", "precision", "IoU", "nDCG@10",
          "rank", "chunks", "tok/chunk", "p95", "context", "index", "encode s", ""]


def heading(s: ChunkSummary) -> str:
    level = "" if s.level == "span" else " — DOCUMENT-LEVEL judgments: no span metrics"
    return (f"{s.task}: {short_name(s.model)}, {s.metric} ({s.queries:,} queries), k={s.k}, units: {s.units}; sorted by context "
            f"tokens per query; Δ vs {s.baseline}{level}")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def _mark(r: ConfigRow, best: str) -> str:
    marks = ["baseline"] if r.delta is None else [] if not r.significant else \
        ["better" if r.delta.mean > 0 else "worse"]
    if r.frontier:
        marks.append("frontier")
    if r.name == best:
        marks.append("best")
    return ", ".join(marks)


def chunk_rows(s: ChunkSummary) -> tuple[list[str], list[list[str]]]:
    """One row per configuration (scores ×100), by context tokens per query."""
    rows = []
    for r in s.rows:
        delta = ["", "", ""] if r.delta is None else [
            f"{100 * r.delta.mean:+.2f}", f"{100 * r.delta.low:+.2f} to {100 * r.delta.high:+.2f}",
            f"{r.p_holm:.4f}" if r.p_holm >= 1e-4 else "<0.0001"]
        span = [_pct(r.scores.get(f"span_{m}@{s.k}")) for m in ("recall", "precision", "iou")]
        rows.append([r.config["label"], f"{100 * r.mean:.2f}", f"{100 * r.ci.low:.2f}–{100 * r.ci.high:.2f}", *delta,
                     *span, _pct(r.scores.get("ndcg@10")), "–" if r.median_rank is None else f"{r.median_rank:g}",
                     f"{r.chunks:,}", f"{r.tokens_mean:.0f}", f"{r.tokens_p95:.0f}", f"{r.context_tokens:,.0f}",
                     human_bytes(r.index_bytes), "–" if r.encode_seconds is None else f"{r.encode_seconds:.1f}",
                     _mark(r, s.best)])
    return HEADER, rows


def caption(s: ChunkSummary) -> str:
    return (f"scores ×100, 95% bootstrap CIs over queries; Δ vs the baseline: paired bootstrap CI, paired "
            f"randomization test Holm-corrected across configurations; recall / precision / IoU: token-level span "
            f"metrics of the top {s.k} (Chroma's definitions, in {s.units}); rank: median rank of the first chunk "
            f"holding the whole answer; context: {s.units} handed to the LLM per query (top {s.k}); index: float32 "
            "vectors; encode s: this configuration's share of one encoding of the grid's distinct texts; frontier: "
            "no configuration scores higher with fewer context tokens")


def rich_chunks(s: ChunkSummary) -> list:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    header, rows = chunk_rows(s)
    table = Table(box=box.SIMPLE_HEAD, caption=caption(s), caption_justify="left")
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i in (0, len(header) - 1) else "right", overflow="fold",
                         no_wrap=i in (0, 2, 4))
    for row in rows:
        style = "green" if "frontier" in row[-1] else "red" if row[-1].startswith("worse") else None
        table.add_row(*[Text(cell, style=style if i in (0, len(row) - 1) else None) for i, cell in enumerate(row)])
    return [Text(heading(s), style="bold"), table, *(Text(f"note: {n}") for n in s.notes)]


def markdown_chunks(s: ChunkSummary) -> list[str]:
    return [f"## {heading(s)}", "", *markdown_table(*chunk_rows(s)), "", f"_{caption(s)}_", "",
            *(f"- {n}" for n in s.notes)]


def chunks_page(summaries: list[ChunkSummary], title: str = "embedlab chunks: which chunking?") -> str:
    """One self-contained HTML page: per model the table and the quality / context-tokens plot (inlined PNG)."""
    parts = [f"<h1>{html.escape(title)}</h1>", *(part for s in summaries for part in html_chunks(s))]
    return html_page(title, "".join(parts), "body{max-width:1400px}img{max-width:60%}")


def html_chunks(s: ChunkSummary) -> list[str]:
    """A summary's HTML: the heading, the table, the quality / context-tokens plot and the notes (`chunks_page`, and
    `report`'s page of chunking results)."""
    return [f"<h2>{html.escape(heading(s))}</h2>", html_table(*chunk_rows(s), caption(s)),
            png_img(frontier_plot(s), "quality against context tokens"),
            *(f"<p>note: {html.escape(n)}</p>" for n in s.notes)]


def frontier_plot(s: ChunkSummary) -> bytes:
    """Quality against context tokens per query; the frontier joined, the baseline's CI shaded."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.scatter([r.context_tokens for r in s.rows], [100 * r.mean for r in s.rows], s=14, color="tab:gray",
               label="configuration")
    front = sorted((r for r in s.rows if r.frontier), key=lambda r: r.context_tokens)
    ax.plot([r.context_tokens for r in front], [100 * r.mean for r in front], "o-", color="tab:blue",
            label="Pareto frontier")
    for r in front:
        ax.annotate(r.config["label"], (r.context_tokens, 100 * r.mean), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    base = next(r for r in s.rows if r.delta is None)
    ax.axhspan(100 * base.ci.low, 100 * base.ci.high, color="tab:green", alpha=0.15, label="baseline 95% CI")
    ax.set_xscale("log")
    ax.set_xlabel(f"context per query ({s.units}, top {s.k})")
    ax.set_ylabel(f"{s.metric} ×100")
    ax.legend(fontsize=7)
    return png(fig, dpi=90)
