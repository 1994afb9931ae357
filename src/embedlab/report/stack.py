"""The "stack" view of two-stage runs (`results.stack`): a stage-wise table for the terminal, markdown and
HTML, and a plot of quality against the reranker's latency, one line per first stage and task."""

from __future__ import annotations

from embedlab.report.figures import png, pyplot
from embedlab.report.markup import markdown_table
from embedlab.results.stack import StackRow

HEADER = ["task", "stack", "first-stage recall@depth", "nDCG@10", "MAP@10", "MRR@10", "Δ nDCG@10", "95% CI of Δ",
          "rerank ms/query", "API cost / 1k queries"]
CAPTION = ("scores ×100; first-stage recall@depth: the share of relevant documents the reranker is given (its "
           "ceiling; documents below the depth are dropped, as mteb does); Δ: paired gain over the first stage, "
           "95% bootstrap CI over queries; ms/query: the reranker's measured time per query, batched")


def stack_cells(rows: list[StackRow], price_per_mtok: float | None = None) -> tuple[list[str], list[list[str]]]:
    """HEADER and one row of text per StackRow; a first stage alone shows its scores only."""
    cells = []
    for row in rows:
        name = row.model if row.reranker is None else f"  >> {row.reranker}@{row.depth}"
        recall = "–" if row.first_recall is None else f"{100 * row.first_recall:.2f}"
        gain = ["", ""] if row.gain is None else [f"{100 * row.gain.mean:+.2f}",
                                                  f"{100 * row.gain.low:+.2f} to {100 * row.gain.high:+.2f}"]
        ms = "–" if row.ms_per_query is None else f"{row.ms_per_query:.1f}"
        cells.append([row.task, name, recall, *(f"{100 * row.scores.get(m, float('nan')):.2f}"
                                                for m in ("ndcg@10", "map@10", "mrr@10")),
                      *gain, ms, "" if row.reranker is None else cost_per_1k(row, price_per_mtok)])
    return HEADER, cells


def cost_per_1k(row: StackRow, price_per_mtok: float | None = None) -> str:
    """What the reranker costs per 1,000 queries: tokens billed per query (measured) at the recorded price,
    else `price_per_mtok`, else the price table; 0 for a local model, '–' when no price is known."""
    from embedlab.models.pricing import price_of

    model = row.reranker_model or {}
    if not model.get("usage"):  # a local model: no requests, no bill
        return "0 (local)"
    price = (row.price_per_mtok, "") if row.price_per_mtok is not None else \
        (price_per_mtok, "") if price_per_mtok is not None else price_of(str(model.get("model", "")))
    if not price or row.tokens_per_query is None:
        return "–"
    return f"{row.tokens_per_query * 1000 / 1e6 * price[0]:.4f} {price[1]}".strip()


def rich_stack(rows: list[StackRow], price_per_mtok: float | None = None):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    header, cells = stack_cells(rows, price_per_mtok)
    table = Table(title="retrieval stacks: first stage, then reranked at each depth", title_justify="left",
                  box=box.SIMPLE_HEAD, caption=CAPTION, caption_justify="left")
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index < 2 else "right", overflow="fold")
    for row, line in zip(rows, cells):  # names as text, never rich markup
        gain = row.gain
        style = "" if gain is None else "bold green" if gain.low > 0 else "bold red" if gain.high < 0 else ""
        table.add_row(*map(Text, line[:6]), *(Text.assemble((c, style)) for c in line[6:8]), *map(Text, line[8:]))
    return table


def stack_markdown(rows: list[StackRow], price_per_mtok: float | None = None) -> list[str]:
    header, cells = stack_cells(rows, price_per_mtok)
    return [*markdown_table(header, cells), "", f"_{CAPTION}_", ""]


def stack_plot(rows: list[StackRow], metric: str = "ndcg@10") -> bytes:
    """PNG: quality (y) against the reranker's ms per query (x; the first stage alone at 0), one line per
    first stage and task, each point labelled with its depth."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    lines: dict[tuple[str, str], list[StackRow]] = {}
    for row in rows:
        lines.setdefault((row.task, row.first_stage), []).append(row)
    for (task, first), members in lines.items():
        points = [(0.0 if r.reranker is None else r.ms_per_query, 100 * r.scores.get(metric, float("nan")), r)
                  for r in members if r.reranker is None or r.ms_per_query is not None]
        ax.plot([x for x, _, _ in points], [y for _, y, _ in points], marker="o",
                label=f"{first} ({task})" if len({t for t, _ in lines}) > 1 else first)
        for x, y, r in points:
            ax.annotate("first stage" if r.reranker is None else f"@{r.depth}", (x, y), fontsize=7,
                        textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel("reranker ms / query (measured)")
    ax.set_ylabel(f"{metric} ×100")
    ax.set_title("quality vs latency per configuration", fontsize=10)
    ax.legend(fontsize=7)
    return png(fig)
