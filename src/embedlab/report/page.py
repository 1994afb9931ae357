"""`embedlab report`: one self-contained HTML page (plots inlined as PNG data, no network) or markdown.

Per task: the comparison table (mean, CI, paired delta, Holm-corrected p), a bar chart with error
bars, per-query wins and losses against the baseline, and the score distributions; then the
fine-tuning curves given. Everything comes from results / curve files: nothing is re-encoded.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Sequence

from embedlab.data.output import MARK
from embedlab.report.chunks import html_chunks, markdown_chunks
from embedlab.report.compare import comparison_rows
from embedlab.report.costs import CAPTION, cost_cells, markdown_costs
from embedlab.report.figures import png, pyplot
from embedlab.report.markup import html_page, html_table, markdown_table, png_img
from embedlab.report.query_diff import query_parts
from embedlab.report.sweep import html_sweep, markdown_sweep
from embedlab.results.chunks import chunk_summaries
from embedlab.results.compare import TaskComparison, compare, named_runs
from embedlab.results.costs import cost_rows
from embedlab.results.curve import Curve
from embedlab.results.duplicates import merge_duplicates
from embedlab.results.results import Results
from embedlab.results.sweep import fusion_notes, sweep_summaries
from embedlab.results.table import LABELS, short_name
from embedlab.tasks.sampling import sample_note

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}.better{color:#11772d;font-weight:bold}
.worse{color:#b00020;font-weight:bold}img{max-width:100%}caption{text-align:left;color:#555}
.plots{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.plots img{max-width:100%;height:auto}"""


def build(results: list[Results], *, curves: list[Curve] = (), baseline: str | None = None,
          title: str = "embedlab report", price_per_mtok: float | None = None, queries: int = 10,
          progress: Callable[[str], None] | None = None, notes: Sequence[str] = ()) -> tuple[str, str]:
    """(html, markdown) for the runs in `results` and the fine-tuning `curves`. `price_per_mtok` prices the
    tokens of API models the price table does not know (a custom endpoint), as `eval --price-per-mtok` does;
    `queries`: per task, the queries where each model and the baseline differ most (runs saved by `eval
    --save-run`; 0: none). `progress` gets a line as each part starts (the bootstrap and plots take minutes on
    large sets). A run that repeats another (the same file twice, two files holding it) is counted once, said under
    the title with the `notes` given."""
    say = progress or (lambda line: None)
    results, merged = merge_duplicates(results)
    notes = [*notes, *merged]
    say(f"comparing {sum(len(r.runs) for r in results)} runs (bootstrap CIs, paired tests)")
    comparisons = compare(results, baseline=baseline) if results else []
    queries_html, queries_md, query_notes, page_end = query_parts(results, comparisons, queries)
    costs = _costs(results, price_per_mtok)
    encode = {(name, t.task): t.timings.get("encode_seconds", 0.0)
              for name, run in named_runs(results).items() for t in run.tasks}
    parts_html = [f"<h1>{html.escape(title)}</h1>", *(f"<p>note: {html.escape(note)}</p>" for note in notes)]
    parts_md = [f"# {title}", "", *(line for note in notes for line in (f"note: {note}", ""))]
    for number, c in enumerate(comparisons, start=1):
        say(f"task {number}/{len(comparisons)}: {c.task}: tables and plots")
        header, rows = comparison_rows(c)
        header = [*header, "encode s", "API cost / 1k queries"]
        rows = [[*row, f"{encode.get((r.model, c.task), 0.0):.1f}", costs.get(r.model, "–")]
                for row, r in zip(rows, c.rows)]
        heading = f"{c.task}: {LABELS.get(c.metric, c.metric)} ({c.queries:,} queries)"
        caption = ("scores ×100; 95% bootstrap CIs over queries; Δ vs the baseline, paired randomization "
                   "test, Holm-corrected") + (f"; a {sample_note(c.sample)}" if c.sample else "")
        parts_md += [f"## {heading}", "", *markdown_table(header, rows), "", f"_{caption}_", ""]
        plots = [_bars(c), _distributions(c, results)] + ([_wins(c, results)] if len(c.rows) > 1 else [])
        parts_html += [f"<h2>{html.escape(heading)}</h2>", html_table(header, rows, caption, cell_class=_mark),
                       "<div class='plots'>" + "".join(_img(png) for png in plots) + "</div>",
                       *queries_html.get(c.task, [])]
        parts_md += queries_md.get(c.task, [])
    for summary in sweep_summaries(results) if results else []:
        parts_md += markdown_sweep(summary)
        parts_html.append(html_sweep(summary))
    for chunking in chunk_summaries(results) if results else []:  # `embedlab chunks`: sorted by context, frontier
        parts_md += markdown_chunks(chunking)
        parts_html += html_chunks(chunking)
    for note in [note for result in results for note in fusion_notes(result)] + query_notes:
        parts_md += [f"**{note}**", ""]
        parts_html.append(f"<p class='worse'>{html.escape(note)}</p>")
    stack_html, stack_md = stack_section(results, price_per_mtok)
    costs = [row for result in results for row in cost_rows(result)]
    parts_html += stack_html + ([html_table(*cost_cells(costs), CAPTION)] if costs else [])
    parts_md += stack_md + (markdown_costs(costs) if costs else [])
    for curve in curves:
        curve_html, curve_md = _curve_parts(curve)
        parts_html += curve_html
        parts_md += curve_md
    page = html_page(title, "".join(parts_html) + page_end, STYLE)
    return page, "\n".join([*parts_md, f"<!-- {MARK} -->"])


def _curve_parts(curve: Curve) -> tuple[list[str], list[str]]:
    """A fine-tuning curve's (html, markdown): its plot and base -> best with the CI of the gain."""
    from embedlab.report.curve import plot_curve

    buffer = io.BytesIO()
    plot_curve(curve, buffer)
    summary = curve.summary()
    text = (f"base {summary['base']:.4f} → best {summary['best']:.4f} at step {summary['best_step']} "
            f"(Δ {summary['delta']['mean']:+.4f}, 95% CI [{summary['delta']['low']:+.4f}, "
            f"{summary['delta']['high']:+.4f}])")
    return ([f"<h2>Fine-tuning curve: {html.escape(curve.metric)}</h2><p>{html.escape(text)}</p>",
             _img(buffer.getvalue())], [f"## Fine-tuning curve: {curve.metric}", "", text, ""])


def stack_section(results: list[Results], price_per_mtok: float | None = None) -> tuple[list[str], list[str]]:
    """(html parts, markdown lines) of the retrieval stacks: the stage-wise table and the quality vs latency
    plot of every two-stage run (`eval --reranker`); nothing when there is none."""
    from embedlab.report.stack import CAPTION, stack_cells, stack_markdown, stack_plot
    from embedlab.results.stack import stack_rows

    rows = stack_rows(results) if results else []
    if not rows:
        return [], []
    header, cells = stack_cells(rows, price_per_mtok)
    heading = "Retrieval stacks: first stage, then reranked"
    return ([f"<h2>{html.escape(heading)}</h2>", html_table(header, cells, CAPTION, cell_class=_mark),
             "<div class='plots'>" + _img(stack_plot(rows)) + "</div>"],
            [f"## {heading}", "", *stack_markdown(rows, price_per_mtok)])


def _costs(results: list[Results], price_per_mtok: float | None) -> dict[str, str]:
    """For API models: the tokens billed in the run, priced per 1,000 queries (cache hits cost nothing, so a
    cached re-run shows less than a first run). The price: the one recorded by `eval --price-per-mtok`,
    else `price_per_mtok`, else the price table."""
    from embedlab.models.pricing import price_of

    out: dict[str, str] = {}
    for name, run in named_runs(results).items():
        usage, queries = run.model.get("usage"), sum(len(t.query_ids) for t in run.tasks)
        recorded = run.model.get("price_per_mtok")
        price = (recorded, "") if recorded is not None else (price_per_mtok, "") if price_per_mtok is not None \
            else price_of(str(run.model.get("model", "")))
        if usage and price and queries:
            out[name] = f"{usage['prompt_tokens'] / 1e6 * price[0] * 1000 / queries:.4f} {price[1]}".strip()
    return out


def _mark(cell: str) -> str:
    return "better" if cell.endswith("better") else "worse" if cell.endswith("worse") else ""


def _img(png: bytes) -> str:
    return f"<p>{png_img(png)}</p>"


def _bars(c: TaskComparison) -> bytes:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(3.4, 1.2 * len(c.rows)), 3.2))
    means = [100 * r.mean for r in c.rows]
    errors = [[100 * (r.mean - r.ci.low) for r in c.rows], [100 * (r.ci.high - r.mean) for r in c.rows]]
    ax.bar(range(len(c.rows)), means, yerr=errors, capsize=5, color="tab:blue", alpha=0.8)
    ax.set_xticks(range(len(c.rows)), [short_name(r.model) for r in c.rows], rotation=15, fontsize=8)
    ax.set_ylabel(f"{c.metric} ×100")
    ax.set_title("mean, 95% CI", fontsize=10)
    return png(fig)


def _per_query(c: TaskComparison, results: list[Results]) -> dict[str, list[float]]:
    return {name: t.per_query[c.metric] for name, run in named_runs(results).items()
            for t in run.tasks if t.task == c.task}


def _distributions(c: TaskComparison, results: list[Results]) -> bytes:
    plt = pyplot()
    values = _per_query(c, results)
    fig, ax = plt.subplots(figsize=(max(3.4, 1.2 * len(values)), 3.2))
    ax.boxplot(list(values.values()), showmeans=True)
    ax.set_xticks(range(1, len(values) + 1), [short_name(n) for n in values], rotation=15, fontsize=8)
    ax.set_ylabel(c.metric)
    ax.set_title(f"per-query {c.metric}", fontsize=10)
    return png(fig)


def _wins(c: TaskComparison, results: list[Results]) -> bytes:
    import numpy as np

    plt = pyplot()
    values = _per_query(c, results)
    base = np.asarray(values[c.baseline])
    others = [name for name in values if name != c.baseline]
    fig, axes = plt.subplots(1, len(others), figsize=(3.6 * len(others), 3.2), squeeze=False)
    for ax, name in zip(axes[0], others):
        diff = np.sort(np.asarray(values[name]) - base)
        colors = ["tab:red" if d < 0 else "tab:green" if d > 0 else "grey" for d in diff]
        ax.bar(range(len(diff)), diff, color=colors, width=1.0)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(f"{short_name(name)} vs baseline\n{int((diff > 0).sum())} wins, "
                     f"{int((diff < 0).sum())} losses, {int((diff == 0).sum())} ties", fontsize=9)
        ax.set_xlabel("queries, sorted")
        ax.set_ylabel(f"Δ {c.metric}")
    return png(fig)
