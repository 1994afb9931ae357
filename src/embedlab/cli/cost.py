"""The line every paid command prints before its first request, and the --max-cost refusal."""

from __future__ import annotations

import click

from embedlab.errors import EmbedlabError


def announce_cost(rows: list[dict], max_cost: float | None, *, at_most: bool = False) -> None:
    """One stderr line per model of `embedlab.estimate` rows; refuse to start above `max_cost`.

    `at_most`: the figures are an upper bound (mining's second model embeds only what it checks)."""
    bound = "at most " if at_most else ""
    for row in rows:
        cost = "unknown cost (no price known; see --price-per-mtok of `estimate`)" if row["cost"] is None \
            else f"~{row['cost']:.4f} {row['currency']}"
        click.echo(f"estimate: {row['model']}: {bound}{row['to_embed']:,} texts to embed ({row['cached']:,} "
                   f"cached), {row['requests']:,} requests, ~{row['tokens']:,} tokens, {cost}", err=True)
        if max_cost is not None and (row["cost"] is None or row["cost"] > max_cost):
            raise EmbedlabError(f"{row['model']}: estimated cost {cost} is not within --max-cost "
                                f"{max_cost}; nothing was sent")
