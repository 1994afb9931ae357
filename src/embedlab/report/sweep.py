"""A hybrid's weight sweep (`results/sweep.py`) as terminal tables, markdown and HTML: the score of each weight,
the best with its CI, the best fusion against each sub-model alone, and the equal-weight note."""

from __future__ import annotations

import html

from embedlab.report.compare import comparison_rows, rich_comparison
from embedlab.report.markup import html_table, markdown_table
from embedlab.results.sweep import SweepSummary
from embedlab.results.table import LABELS


def _weights(weights: list[float]) -> str:
    return ",".join(f"{w:.3g}" for w in weights)


def heading(s: SweepSummary) -> str:
    return (f"{s.task}: weight sweep of {s.hybrid}, {LABELS.get(s.metric, s.metric)} "
            f"({s.comparison.queries:,} queries)")


def curve_rows(s: SweepSummary) -> tuple[list[str], list[list[str]]]:
    """One row per weight tried: the weights and the score ×100, the best marked."""
    rows = [[_weights(w), f"{100 * mean:.2f}" + (" best" if w == s.best else "")] for w, mean in s.curve]
    return ["weights", f"{s.metric} ×100"], rows


def best_line(s: SweepSummary) -> str:
    fusion = s.comparison.rows[0]
    level = f"{100 * (1 - s.comparison.alpha):g}%"
    beaten = [r for r in s.comparison.rows[1:] if r.significant and r.delta is not None and r.delta.mean < 0]
    verdict = (f"significantly better than {len(beaten)} of {len(s.comparison.rows) - 1} sub-models alone"
               f" (Holm-corrected)")
    alone = ""
    if max(s.best) == 1.0 and sum(s.best) == 1.0:  # every weight on one model: that model alone wins
        subs = [row.model for row in s.comparison.rows[1:]]
        which = subs[s.best.index(1.0)] if len(subs) == len(s.best) else "one model"
        alone = f" (all weight on {which}: fusing does not help here)"
    return (f"best weights {_weights(s.best)}{alone}: {100 * fusion.mean:.2f} ({level} CI {100 * fusion.ci.low:.2f}–"
            f"{100 * fusion.ci.high:.2f}), {verdict}; the best of {len(s.curve)} weights chosen on these same queries, "
            "so its score is optimistic: confirm it on held-out queries")


def rich_sweep(s: SweepSummary) -> list:
    """Renderables for the terminal: the curve, the comparison, and the lines under them."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    header, rows = curve_rows(s)
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column(header[0])
    table.add_column(header[1], justify="right")
    for weights, score in rows:
        table.add_row(weights, f"[bold]{score}[/bold]" if score.endswith("best") else score)
    return [Text(heading(s), style="bold"), table, Text(best_line(s)), rich_comparison(s.comparison)]


def markdown_sweep(s: SweepSummary) -> list[str]:
    header, rows = curve_rows(s)
    lines = [f"## {heading(s)}", "", *markdown_table(header, rows), "", best_line(s), ""]
    lines += markdown_table(*comparison_rows(s.comparison))
    lines += ["", "_Δ = each sub-model alone minus the best fusion (negative: the fusion is better); paired "
                  "randomization test, Holm-corrected_", ""]
    return lines + ([f"**{s.note}**", ""] if s.note else [])


def html_sweep(s: SweepSummary) -> str:
    parts = [f"<h2>{html.escape(heading(s))}</h2>", html_table(*curve_rows(s), "scores ×100 per weight"),
             f"<p>{html.escape(best_line(s))}</p>",
             html_table(*comparison_rows(s.comparison), "Δ = each sub-model alone minus the best fusion; paired "
                                                         "randomization test, Holm-corrected")]
    return "".join(parts) + (f"<p class='worse'>{html.escape(s.note)}</p>" if s.note else "")
