"""What `embedlab estimate` prints: per model, the texts, requests, tokens and cost an `eval` would send."""

from __future__ import annotations

from typing import Any

from embedlab.results.table import short_name

COLUMNS = ("model", "unique texts", "cached", "to embed", "requests", "tokens", "cost")


def estimate_cells(row: dict[str, Any]) -> list[str]:
    """One row of `estimate()` as text; tokens estimated from characters are marked ~."""
    cost = "unknown: give --price-per-mtok" if row["cost"] is None else f"{row['cost']:.4f} {row['currency']}"
    approx = "" if row["token_count"] == "tokenizer" else "~"
    name = short_name(row["model"])
    if row.get("unit") == "pairs":  # a reranker: the counts are (query, passage) pairs
        name += " (pairs, at most)" if row.get("at_most") else " (pairs)"
    return [name, f"{row['unique_texts']:,}", f"{row['cached']:,}", f"{row['to_embed']:,}",
            f"{row['requests']:,}", f"{approx}{row['tokens']:,}", cost]


def estimate_table(rows: list[dict[str, Any]]):
    from rich.table import Table
    from rich.text import Text

    table = Table(title="estimate (no request sent)", title_justify="left",
                  caption="tokens: ~ = estimated from characters (1 per CJK character, 1 per 4 others)")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in rows:
        table.add_row(*map(Text, estimate_cells(row)))  # a model's name as text, never rich markup
    return table

