"""report/estimate.py: the table of `embedlab estimate`, from estimate()'s rows as plain data."""

from __future__ import annotations

import io

from rich.console import Console

from embedlab.report.estimate import COLUMNS, estimate_cells, estimate_table

LOCAL = {"model": "/models/BAAI/bge-small-zh-v1.5", "unique_texts": 12345, "cached": 0, "to_embed": 12345,
         "requests": 0, "tokens": 234567, "token_count": "tokenizer", "cost": 0.0, "currency": "USD"}
API = {"model": "qianfan:embedding-v1", "unique_texts": 1000, "cached": 400, "to_embed": 600, "requests": 38,
       "tokens": 51200, "token_count": "characters", "cost": None, "currency": None}


def test_cells_mark_estimated_tokens_and_an_unknown_price():
    assert estimate_cells(LOCAL) == ["bge-small-zh-v1.5", "12,345", "0", "12,345", "0", "234,567", "0.0000 USD", "–"]
    assert estimate_cells(API) == ["qianfan:embedding-v1", "1,000", "400", "600", "38", "~51,200",
                                   "unknown: give --price-per-mtok", "–"]


def test_table_has_a_row_per_model_and_says_nothing_was_sent():
    console = Console(file=io.StringIO(), width=200)
    console.print(estimate_table([LOCAL, API]))
    shown = console.file.getvalue()
    assert "estimate (no request sent)" in shown and "~ = estimated from characters" in shown
    assert all(column in shown for column in COLUMNS)
    assert "~51,200" in shown and "234,567" in shown


def test_a_models_name_is_shown_as_written():
    """Issue 24, item 21."""
    console = Console(file=io.StringIO(), width=200)
    console.print(estimate_table([{**API, "model": "openai:[bold]x[/bold]:smile:"}]))
    assert "openai:[bold]x[/bold]:smile:" in console.file.getvalue()


def test_a_measured_time_is_said_as_one():
    from embedlab.report.estimate import about

    assert [about(s) for s in (None, 0.2, 1.0, 12.4, 2400, 9000)] == [
        "–", "under a second", "about a second", "about 12 seconds", "about 40 minutes", "about 2 h 30 min"]
    timed = {**LOCAL, "seconds": 2410.0, "time_basis": "measured on 128 of the 12,345 texts: 5.1 texts/s"}
    assert estimate_cells(timed)[-1] == "about 40 minutes" and estimate_cells(API)[-1] == "–"
    console = Console(file=io.StringIO(), width=200)
    console.print(estimate_table([timed, API]))
    shown = console.file.getvalue()
    assert "time (measured)" in shown and "bge-small-zh-v1.5: measured on 128 of the 12,345 texts: 5.1 texts/s" in shown
