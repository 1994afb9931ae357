"""What `embedlab estimate` prints: per model, the texts, requests, tokens and cost an `eval` would send, and for
local models the time their encoding would take, measured on a probe."""

from __future__ import annotations

from typing import Any

from embedlab.results.table import short_name

COLUMNS = ("model", "unique texts", "cached", "to embed", "requests", "tokens", "cost", "time (measured)")


def about(seconds: float | None) -> str:
    """`about 40 minutes`: a measured estimate said as one (– when not measured)."""
    if seconds is None:
        return "–"
    if seconds < 1.5:
        return "about a second" if seconds >= 0.5 else "under a second"
    if seconds < 90:
        return f"about {round(seconds)} seconds"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} minutes"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"about {hours} h {minutes:02d} min"


def estimate_cells(row: dict[str, Any]) -> list[str]:
    """One row of `estimate()` as text; tokens estimated from characters are marked ~."""
    cost = "unknown: give --price-per-mtok" if row["cost"] is None else f"{row['cost']:.4f} {row['currency']}"
    approx = "" if row["token_count"] == "tokenizer" else "~"
    name = short_name(row["model"])
    if row.get("unit") == "pairs":  # a reranker: the counts are (query, passage) pairs
        name += " (pairs, at most)" if row.get("at_most") else " (pairs)"
    return [name, f"{row['unique_texts']:,}", f"{row['cached']:,}", f"{row['to_embed']:,}",
            f"{row['requests']:,}", f"{approx}{row['tokens']:,}", cost, about(row.get("seconds"))]


def estimate_table(rows: list[dict[str, Any]]):
    from rich.table import Table
    from rich.text import Text

    caption = "tokens: ~ = estimated from characters (1 per CJK character, 1 per 4 others)"
    timed = [row for row in rows if row.get("seconds") is not None]
    if timed:
        caption += ("\ntime: local models, measured here and now on a probe of the texts to embed, spread over "
                    "their lengths,\nafter a warm-up, and extrapolated (" + "; ".join(
                        f"{short_name(row['model'])}: {row['time_basis']}" for row in timed) + ")")
    table = Table(title="estimate (no request sent)", title_justify="left", caption=caption, caption_justify="left")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in rows:
        table.add_row(*map(Text, estimate_cells(row)))  # a model's name as text, never rich markup
    return table

