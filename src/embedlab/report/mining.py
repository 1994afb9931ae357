"""The table `embedlab mine` prints: what the filters did, where the positives ranked, examples.

Renders the report as plain data (`MiningReport.as_dict()`, or the report JSON read back), so showing a
report needs neither the miner nor a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MARGINS = ("absolute_margin", "relative_margin", "max_score", "min_score")
SHOWN_EXAMPLES = 8


def print_mining_report(report: Mapping[str, Any], console=None) -> None:
    """The summary line, the table of counts, embedding work, positive ranks and examples (on stdout)."""
    from embedlab.report.table import stdout

    console = console or stdout()
    console.print(f"mined {report['rows']:,} rows against {report['corpus_size']:,} candidate passages "
                  f"with {', '.join(report['models'])}", markup=False, emoji=False)
    if report.get("approximate_search"):
        console.print(search_cost(report["approximate_search"]), highlight=False)
    console.print(counts_table(report))
    for name, stats in report["embedding"].items():
        console.print(f"{name}: {stats['texts_encoded']:,} texts embedded, {stats['cache_hits']:,} from the cache",
                      markup=False, emoji=False)
    console.print(positive_ranks(report), highlight=False)
    if report["examples"]:
        console.print("likely false negatives dropped (examples, one per row):")
        for e in report["examples"][:SHOWN_EXAMPLES]:
            rank = f"rank {e['rank']}, " if e["rank"] else ""
            console.print(f"  {e['reason']}  {e['row']}  {rank}score {e['score']:.3f} vs positive "
                          f"{e['positive_score']:.3f}", highlight=False, markup=False, soft_wrap=True)
            for what in ("query", "positive", "candidate"):
                console.print(f"    {what + ':':<10} {cut(e[what])}", highlight=False, markup=False,
                              soft_wrap=True)


def counts_table(report: Mapping[str, Any]):
    """Candidates in the rank range: what each exclusion and active filter took, what was kept and written."""
    from rich.table import Table

    table = Table(title="candidates in the rank range", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("candidates", f"{report['candidates']:,}")
    table.add_row("excluded: same text as a positive or the query", f"{report['excluded_same_text']:,}")
    table.add_row("excluded: a positive of the same query in another row", f"{report['excluded_known_positive']:,}")
    for reason, count in report["dropped"].items():
        if count or reason in active_filters(report):
            table.add_row(f"dropped as likely false negative: {reason.replace('_', ' ')}", f"{count:,}")
    table.add_row("kept as candidates", f"{report['kept_candidates']:,}")
    table.add_row("negatives written", f"{report['negatives_written']:,}")
    table.add_row(f"rows with fewer than {report['config']['num_negatives']} negatives", f"{report['rows_short']:,}")
    table.add_row("rows with no negative", f"{report['rows_without_negative']:,}")
    return table


def search_cost(cost: Mapping[str, Any]) -> str:
    """One line: how much of the exact search's candidate lists the approximate index found (`--search`)."""
    recall = next(key for key in cost if key.startswith("recall@"))
    settings = ", ".join(f"{key} {value}" for key, value in cost.items() if key in ("nlist", "nprobe", "M", "efSearch"))
    return (f"{cost['method']} ({settings}): {recall.removesuffix('_vs_exact')} {cost[recall]:.4f} of the candidate "
            f"lists against exact search, on {cost['queries_sampled']:,} sampled rows (seeded)")


def positive_ranks(report: Mapping[str, Any]) -> str:
    """One line: in how many rows the row's own positive ranked first, 2-10, 11+, below the range."""
    ranks = report["positive_rank"]
    line = (f"the row's positive ranked first in {ranks['1']:,} rows, 2-10 in {ranks['2-10']:,}, "
            f"11+ in {ranks['11+']:,}, below rank {report['config']['range_max']} in {ranks['below_range']:,}")
    if ranks["not_in_corpus"]:
        line += f"; not a candidate in {ranks['not_in_corpus']:,}"
    return line


def active_filters(report: Mapping[str, Any]) -> set[str]:
    """The filters the run applied (shown even when they dropped nothing)."""
    config = report["config"]
    active = {name for name in MARGINS if config.get(name) is not None}
    return active | ({"second_model"} if len(report["models"]) > 1 else set())


def cut(text: str, cells: int = 64) -> str:
    """`text` cut to `cells` terminal columns (a CJK character takes two), so an example stays on one line."""
    from rich.cells import cell_len, set_cell_size

    return text if cell_len(text) <= cells else set_cell_size(text, cells - 1) + "…"
