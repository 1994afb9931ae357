"""The table of `embedlab mine`, rendered from the report as plain data (no miner, no model)."""

from __future__ import annotations

import io
import subprocess
import sys

from rich.console import Console

from embedlab.report.mining import active_filters, cut, positive_ranks, print_mining_report, search_cost

REPORT = {
    "source": "rows.jsonl", "corpus": "rows.jsonl (all its passages)", "corpus_size": 1234, "rows": 10,
    "config": {"num_negatives": 7, "range_max": 100, "absolute_margin": None, "relative_margin": 0.05,
               "max_score": None, "min_score": None},
    "models": ["m"], "candidates": 1000, "excluded_same_text": 10, "excluded_known_positive": 2,
    "dropped": {"absolute_margin": 0, "relative_margin": 30, "max_score": 0, "min_score": 0, "second_model": 0},
    "kept_candidates": 958, "negatives_written": 70, "rows_short": 0, "rows_without_negative": 0,
    "skipped_rows": {}, "embedding": {"m": {"texts_encoded": 1244, "cache_hits": 3}},
    "examples": [{"row": "rows.jsonl:3", "reason": "relative_margin", "query": "绿茶" * 40, "positive": "p",
                  "candidate": "c", "rank": 2, "score": 0.91234, "positive_score": 0.9}],
    "positive_rank": {"1": 8, "2-10": 1, "11+": 0, "below_range": 1, "not_in_corpus": 0},
    "notes": [], "seconds": {},
}


def render(report) -> str:
    console = Console(file=io.StringIO(), width=200)
    print_mining_report(report, console)
    return console.file.getvalue()


def test_the_table_shows_counts_active_filters_and_examples():
    text = render(REPORT)
    assert "mined 10 rows against 1,234 candidate passages with m" in text
    assert "dropped as likely false negative: relative margin" in text
    assert "absolute margin" not in text  # not active, dropped nothing
    assert "rows with fewer than 7 negatives" in text and "1,244 texts embedded, 3 from the cache" in text
    assert "relative_margin  rows.jsonl:3  rank 2, score 0.912 vs positive 0.900" in text
    assert "query:     " + "绿茶" * 15 + "绿 …" in text  # cut to 64 columns: a CJK character takes two


def test_active_filters_and_positive_ranks():
    assert active_filters(REPORT) == {"relative_margin"}
    two = {**REPORT, "models": ["m", "checker"], "config": {**REPORT["config"], "min_score": 0.1}}
    assert active_filters(two) == {"relative_margin", "min_score", "second_model"}
    assert positive_ranks(REPORT) == ("the row's positive ranked first in 8 rows, 2-10 in 1, 11+ in 0, "
                                      "below rank 100 in 1")
    missing = {**REPORT, "positive_rank": {**REPORT["positive_rank"], "not_in_corpus": 1200}}
    assert positive_ranks(missing).endswith("; not a candidate in 1,200")
    assert cut("short") == "short" and cut("x" * 100, 10) == "x" * 9 + "…"


def test_rendering_imports_neither_the_miner_nor_torch():
    code = ("import sys\nfrom embedlab.report.mining import print_mining_report\n"
            "heavy = [m for m in ('embedlab.mining', 'torch', 'numpy') if m in sys.modules]\n"
            "assert not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_an_approximate_search_shows_its_recall():
    cost = {"method": "faiss-ivf", "nlist": 40, "nprobe": 5, "queries_sampled": 200,
            "recall@100_vs_exact": 0.98765, "exact_seconds_per_query": 0.001}
    assert search_cost(cost) == ("faiss-ivf (nlist 40, nprobe 5): recall@100 0.9877 of the candidate lists against "
                                 "exact search, on 200 sampled rows (seeded)")
    assert search_cost(cost) in render({**REPORT, "approximate_search": cost})
    assert "against exact search" not in render(REPORT)
