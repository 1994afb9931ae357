"""Comparison tables: mean [CI], delta to the baseline [CI], p (Holm), a clear significance mark."""

from __future__ import annotations

from embedlab.results.compare import TaskComparison
from embedlab.results.table import LABELS, short_name
from embedlab.tasks.sampling import sample_note


def comparison_rows(c: TaskComparison) -> tuple[list[str], list[list[str]]]:
    level = f"{100 * (1 - c.alpha):g}%"
    header = ["model", "mean", f"{level} CI", "Δ", f"{level} CI of Δ", "p (Holm)"]
    rows = []
    for r in c.rows:
        ci = f"{100 * r.ci.low:.2f}–{100 * r.ci.high:.2f}"
        if r.delta is None:
            rows.append([short_name(r.model), f"{100 * r.mean:.2f}", ci, "baseline", "", ""])
            continue
        mark = ("better" if r.delta.mean > 0 else "worse") if r.significant else "n.s."
        rows.append([short_name(r.model), f"{100 * r.mean:.2f}", ci, f"{100 * r.delta.mean:+.2f}",
                     f"{100 * r.delta.low:+.2f} to {100 * r.delta.high:+.2f}",
                     (f"{r.p_holm:.4f}" if r.p_holm >= 1e-4 else "<0.0001") + f" {mark}"])
    return header, rows


def rich_comparison(c: TaskComparison):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    header, rows = comparison_rows(c)
    test = "paired randomization test" if c.test == "permutation" else "paired t-test"
    table = Table(title=Text(f"{c.task}: {LABELS.get(c.metric, c.metric)}, {c.queries:,} queries, "
                             f"Δ vs baseline {short_name(c.baseline)}"),
                  title_justify="left", box=box.SIMPLE_HEAD, caption_justify="left",
                  caption="scores ×100; "
                          f"{test}, Holm-corrected across {max(len(c.rows) - 1, 1)} comparison(s); "
                          f"significant at p < {c.alpha:g}; bootstrap CIs over queries")
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index in (0, 5) else "right", no_wrap=index > 0,
                         min_width=12 if index == 0 else None, overflow="fold")
    for row in rows:
        style = next((s for word, s in (("better", "bold green"), ("worse", "bold red"))
                      if row[5].endswith(word)), None)
        table.add_row(Text(row[0]), *row[1:5], Text.assemble((row[5], style or "")))
    return table


def margin_note(c: TaskComparison) -> str | None:
    """For a sampled run: how wide the interval is, and the rows a ±margin interval would need."""
    if not c.sample:
        return None
    base = c.rows[0]
    half = 100 * (base.ci.high - base.ci.low) / 2
    return (f"{c.task}: a {sample_note(c.sample)}; the {short_name(base.model)} "
            f"interval is ±{half:.2f} points; ±{100 * c.margin:g} would need about "
            f"{base.rows_for_margin:,} rows" + (" (more than the data has)" if base.rows_for_margin > c.sample["of"]
                                               else ""))
