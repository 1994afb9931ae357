"""A deployment sweep (`results/deploy.py`) as a terminal table, markdown and one HTML page with the Pareto
frontiers of quality against bytes per vector and against ms per query (and, with encoder rows, against encode ms
per query), each ending with the recommendations.
The terminal table keeps the columns that decide (it fits a terminal); markdown, HTML and JSON have them all.
(`report/sweep.py` renders the hybrid's weight sweep.)"""

from __future__ import annotations

import html

from embedlab.report.figures import png, pyplot
from embedlab.report.markup import html_page, html_table, human_bytes, markdown_table, png_img
from embedlab.results.deploy import DeploySummary, VariantRow, overall, overall_encoder, variant_label
from embedlab.results.table import LABELS, short_name

HEADER = ["variant", "score", "95% CI", "Δ", "CI of Δ", "p (Holm)", "bytes/vec", "index", "ms/q batch",
          "ms/q single", "nbr recall@10", ""]
ENCODE = ["texts/s", "encode ms/q", "model"]  # the encoders' columns (a `--backend` sweep)


# the terminal's columns: what decides (score, the difference and its CI, bytes, latency, recall, the verdict)
TERMINAL = ["variant", "score", "Δ [95% CI]", "bytes", "ms/q", "nbr recall", "enc ms/q", "texts/s", "", "frontier"]


def heading(s: DeploySummary) -> str:
    return (f"{s.task}: {short_name(s.model)}, {LABELS.get(s.metric, s.metric)} ({s.queries:,} queries), sorted by "
            f"cost; Δ vs {variant_label(s.rows[0].variant)}")


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _verdict(r: VariantRow) -> str:
    return "baseline" if r.delta is None else "free saving" if r.free else "" if r.tied else \
        "better" if r.delta.mean > 0 else "worse"


def _frontiers(r: VariantRow, latency: bool = True) -> str:
    return "+".join(w for w, on in (("bytes", r.frontier_bytes), ("ms", r.frontier_ms and latency),
                                    ("encode", r.frontier_encode)) if on)


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _encodes(s: DeploySummary) -> bool:
    """Whether the sweep measured its encoders (`--backend`)."""
    return any(r.encode_ms is not None for r in s.rows)


def _mark(r: VariantRow) -> str:
    frontier = _frontiers(r)
    return ", ".join(m for m in (_verdict(r), f"frontier:{frontier}" if frontier else "") if m)


def deploy_rows(s: DeploySummary) -> tuple[list[str], list[list[str]]]:
    """One row per variant (scores ×100), the baseline first, then by cost; the encoders' columns in a `--backend`
    sweep."""
    rows, encodes = [], _encodes(s)
    for r in s.rows:
        delta = ["", "", ""] if r.delta is None else [
            f"{100 * r.delta.mean:+.2f}", f"{100 * r.delta.low:+.2f} to {100 * r.delta.high:+.2f}",
            f"{r.p_holm:.4f}" if r.p_holm >= 1e-4 else "<0.0001"]
        encoder = [_rate(r.texts_per_second), _ms(r.encode_ms), human_bytes(r.model_bytes)] if encodes else []
        rows.append([r.name, f"{100 * r.mean:.2f}", f"{100 * r.ci.low:.2f}–{100 * r.ci.high:.2f}", *delta,
                     f"{r.variant['bytes_per_vector']:g}", human_bytes(r.index_bytes), _ms(r.ms_batch), _ms(r.ms_single),
                     "–" if r.neighbour_recall is None else f"{r.neighbour_recall:.3f}", *encoder, _mark(r)])
    return HEADER[:-1] + (ENCODE if encodes else []) + HEADER[-1:], rows


def terminal_rows(s: DeploySummary) -> tuple[list[str], list[list[str]]]:
    """The terminal's rows: the variant without the model's name, the columns of `TERMINAL`, and no column that is
    empty on every row (no neighbour recall without an approximate index), nor latency where it means nothing (no
    corpus: reranking rows; a corpus too small, `DeploySummary.latency_meaningful`)."""
    rows = []
    for r in s.rows:
        delta = "" if r.delta is None else \
            f"{100 * r.delta.mean:+.2f} [{100 * r.delta.low:+.2f}, {100 * r.delta.high:+.2f}]"
        rows.append([variant_label(r.variant), f"{100 * r.mean:.2f}", delta, f"{r.variant['bytes_per_vector']:g}",
                     _ms(r.ms_single if s.latency_meaningful else None),
                     "–" if r.neighbour_recall is None else f"{r.neighbour_recall:.3f}", _ms(r.encode_ms),
                     _rate(r.texts_per_second), _verdict(r), _frontiers(r, s.latency_meaningful)])
    verdict = TERMINAL.index("")
    keep = [i for i in range(len(TERMINAL)) if any(row[i] not in ("", "–") for row in rows) or i in (0, verdict)]
    return [TERMINAL[i] for i in keep], [[row[i] for i in keep] for row in rows]


def recommendations(summaries: list[DeploySummary]) -> list[str]:
    """One line per task, then overall (several tasks): the cheapest variant that holds, and why."""
    return [s.recommendation for s in summaries] + [line for line in [overall(summaries)] if line] \
        + [s.encoder_recommendation for s in summaries if s.encoder_recommendation] \
        + [line for line in [overall_encoder(summaries)] if line]


def recommendation_text(summaries: list[DeploySummary], width: int = 110) -> str:
    """The recommendations for a terminal or a log: a heading, then each wrapped under its first line."""
    import textwrap

    lines = ["recommended (the cheapest variant not significantly worse than the baseline):"]
    lines += [textwrap.fill(line, width, initial_indent="  ", subsequent_indent="      ")
              for line in recommendations(summaries)]
    return "\n".join(lines)


TERMINAL_CAPTION = ("scores ×100; Δ vs the baseline with its 95% paired bootstrap CI; bytes per vector; ms/q: one query\n"
                    "at a time, top 10 (on 10,000+ documents); nbr recall: of the exact top 10; free saving = not "
                    "significantly\ndifferent (Holm-corrected) and cheaper; frontier: Pareto, score against bytes / "
                    "ms / encode ms;\nenc ms/q: one query encoded alone, texts/s: documents encoded in batches (--backend); "
                    "every column\n(p, index size, batch ms, model size) in --format json and report.html")

CAPTION = ("scores ×100, 95% bootstrap CIs over queries; Δ vs the baseline: paired bootstrap CI, paired randomization "
           "test Holm-corrected across variants; free saving = not significantly different and cheaper; index = "
           "vectors + structure; ms per query for a top 10, all queries at once (batch) and one at a time (median); "
           "with --backend: each encoder's texts/s (documents in batches) and encode ms per query (one query alone, "
           "median, after a warm-up), and the bytes of the model it runs")


def rich_deploy(s: DeploySummary) -> list:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    header, rows = terminal_rows(s)
    table = Table(box=box.SIMPLE_HEAD)  # the caption under it, apart: as a caption it would widen the table
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 or not name or name == "frontier" else "right",
                         overflow="fold")
    verdict = header.index("")
    for row in rows:
        style = "green" if row[verdict] == "free saving" else "red" if row[verdict] == "worse" else None
        table.add_row(*[Text(cell, style=style) if style and i in (0, verdict) else Text(cell)
                        for i, cell in enumerate(row)])
    return [Text(heading(s), style="bold"), table, Text(TERMINAL_CAPTION)]


def markdown_deploy(s: DeploySummary) -> list[str]:
    header, rows = deploy_rows(s)
    return [f"## {heading(s)}", "", *markdown_table(header, rows), "", f"_{CAPTION}_", "",
            *(f"warning: {note}\n" for note in s.notes), f"**recommended**: {s.recommendation}", ""]


def deploy_page(summaries: list[DeploySummary], title: str = "embedlab sweep: what will it cost to deploy?") -> str:
    """One self-contained HTML page: per task the table and the two frontier plots (inlined PNG)."""
    parts = [f"<h1>{html.escape(title)}</h1>", "<h2>Recommendations</h2><ul>",
             *(f"<li>{html.escape(line)}</li>" for line in recommendations(summaries)), "</ul>"]
    for s in summaries:
        plots = [_frontier(s, "bytes")] + ([_frontier(s, "ms")] if any(r.ms_single for r in s.rows) else []) \
            + ([_frontier(s, "encode")] if _encodes(s) else [])
        parts += [f"<h2>{html.escape(heading(s))}</h2>", html_table(*deploy_rows(s), CAPTION),
                  *(f"<p>warning: {html.escape(note)}</p>" for note in s.notes),
                  "<div>" + "".join(png_img(p, "frontier") for p in plots) + "</div>"]
    return html_page(title, "".join(parts), "img{max-width:49%}")


def _frontier(s: DeploySummary, axis: str) -> bytes:
    plt = pyplot()

    cost = {"bytes": lambda r: r.variant["bytes_per_vector"], "ms": lambda r: r.ms_single,
            "encode": lambda r: r.encode_ms}[axis]
    on = {"bytes": lambda r: r.frontier_bytes, "ms": lambda r: r.frontier_ms, "encode": lambda r: r.frontier_encode}[axis]
    shown = [r for r in s.rows if cost(r) is not None]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter([cost(r) for r in shown], [100 * r.mean for r in shown], s=14, color="tab:gray", label="variant")
    front = sorted((r for r in shown if on(r)), key=cost)
    ax.plot([cost(r) for r in front], [100 * r.mean for r in front], "o-", color="tab:blue", label="Pareto frontier")
    for r in front:
        ax.annotate(r.name.rsplit(" @", 1)[-1], (cost(r), 100 * r.mean), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    base = s.rows[0]
    ax.axhspan(100 * base.ci.low, 100 * base.ci.high, color="tab:green", alpha=0.15, label="baseline 95% CI")
    ax.set_xscale("log")
    ax.set_xlabel({"bytes": "bytes per vector", "ms": "ms per query (single, top 10)",
                   "encode": "encode ms per query (one query alone)"}[axis])
    ax.set_ylabel(f"{s.metric} ×100")
    ax.legend(fontsize=7)
    return png(fig, dpi=90)
