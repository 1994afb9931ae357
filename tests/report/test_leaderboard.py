"""report/leaderboard.py: the leaderboard as text cells, markdown and a rich table (no results files needed)."""

from __future__ import annotations

import io

from rich.console import Console

from embedlab.report.leaderboard import leaderboard_cells, markdown_leaderboard, rich_leaderboard
from embedlab.results.leaderboard import Leaderboard

BOARD = Leaderboard(
    tasks=["T2Reranking v1.map", "T2Retrieval ndcg@10"],
    rows=[{"model": "/m/BAAI/bge-small-zh-v1.5", "file": "a.json", "scores": {"T2Reranking v1.map": 0.66123,
                                                                              "T2Retrieval ndcg@10": 0.7},
           "mean": 0.680615},
          {"model": "openai:text-embedding-v4", "file": "b.json", "scores": {"T2Reranking v1.map": 0.6},
           "mean": None}],
    skipped=[])


def test_cells_rank_scores_times_100_and_dashes_for_missing_tasks():
    header, rows = leaderboard_cells(BOARD)
    assert header == ["#", "model", "T2Reranking v1.map", "T2Retrieval ndcg@10", "mean", "file"]
    assert rows == [["1", "bge-small-zh-v1.5", "66.12", "70.00", "68.06", "a.json"],
                    ["2", "openai:text-embedding-v4", "60.00", "–", "–", "b.json"]]


def test_markdown_is_a_pipe_table():
    lines = markdown_leaderboard(BOARD).splitlines()
    assert lines[0] == "| # | model | T2Reranking v1.map | T2Retrieval ndcg@10 | mean | file |"
    assert lines[1] == "|---|---|---|---|---|---|"
    assert lines[2] == "| 1 | bge-small-zh-v1.5 | 66.12 | 70.00 | 68.06 | a.json |" and len(lines) == 4


def test_rich_table_is_titled_with_the_folder_and_the_run_count():
    console = Console(file=io.StringIO(), width=200)
    console.print(rich_leaderboard(BOARD, "results"))
    shown = console.file.getvalue()
    assert "results: 2 runs, scores ×100" in shown and "bge-small-zh-v1.5" in shown and "68.06" in shown


def test_published_rows_show_their_labels_and_the_other_semantics_mark():
    from embedlab.report.leaderboard import variant_notes

    board = Leaderboard(
        tasks=["T2Reranking v1.map"],
        rows=[{"model": "me", "file": "a.json", "scores": {"T2Reranking v1.map": 0.6},
               "data": {"T2Reranking v1.map": "x"}, "mean": 0.6},
              {"model": "org/m", "file": "results/org__m/" + "ab" * 20, "scores": {"T2Reranking v1.map": 0.7},
               "data": {"T2Reranking v1.map": "published: y"}, "marks": {"T2Reranking v1.map": "v2"},
               "published": {"revision": "ab" * 20, "tasks": {}}, "mean": None}],
        skipped=[], variants={"T2Reranking v1.map": {"x": "a", "published: y": "b"}}, described={"x": "x, read from z"})
    _, rows = leaderboard_cells(board)
    assert rows[1] == ["2", "org/m (published)", "70.00 [b, v2]", "–", "results/org__m/abababab…"]
    first, second = variant_notes(board)
    assert first.endswith("[a] x, read from z; [b] published: y")
    assert second.startswith("T2Reranking v1.map: scores marked v2 are mteb 2.x's reranking scores")


def test_labels_are_shown_as_written_not_read_as_rich_markup():
    board = Leaderboard(tasks=["T v1.map"], rows=[
        {"model": "m", "file": "a.json", "scores": {"T v1.map": 0.5}, "data": {"T v1.map": "x"}, "mean": 0.5},
        {"model": "n", "file": "b.json", "scores": {"T v1.map": 0.4}, "data": {"T v1.map": "y"}, "mean": 0.4}],
        skipped=[], variants={"T v1.map": {"x": "a", "y": "b"}})
    console = Console(file=io.StringIO(), width=200)
    console.print(rich_leaderboard(board, "results"))
    assert "50.00 [a]" in console.file.getvalue() and "40.00 [b]" in console.file.getvalue()


def test_task_names_and_the_folder_are_shown_as_written():
    """Issue 24, item 21: column names and the title were read as rich markup."""
    board = Leaderboard(tasks=["[red]t :smile: ndcg@10"], rows=[{"model": "m :smile:", "file": "a.json",
                                                                 "scores": {"[red]t :smile: ndcg@10": 0.5},
                                                                 "mean": 0.5}], skipped=[])
    console = Console(file=io.StringIO(), width=200)
    console.print(rich_leaderboard(board, "[bold]runs"))
    text = console.file.getvalue()
    assert "[bold]runs: 1 runs" in text and "[red]t :smile: ndcg@10" in text and "m :smile:" in text
    assert "😄" not in text
