"""`embedlab leaderboard`: every run of a results folder in one table, with published mteb scores beside them."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("leaderboard")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--sort", default=None, help="Task to sort by [default: the mean over tasks].")
@click.option("--metric", default=None, help="Metric per task [default: each task's main score].")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json"]), default="table",
              show_default=True)
@click.option("--mteb", "mteb", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="A local copy of mteb's results (a clone or snapshot of the public results repository, mteb's "
                   "results cache, or a folder of `export-mteb` files): published scores of other models on the "
                   "same tasks become rows marked (published).")
@click.option("--mteb-model", "mteb_models", multiple=True,
              help="Only the published models matching this pattern (fnmatch, any case: 'BAAI/*'). Repeatable.")
def leaderboard_command(directory, sort, metric, fmt, mteb, mteb_models) -> None:
    """Every run in a results directory as one table (a row per model run, a column per task).

    With --mteb, published scores sit beside the runs: a score on other data than the runs' (another dataset
    revision, C-MTEB's original data, a revision the file does not record) gets a data label, and a reranking
    score of the other semantics than the column's (v1 = C-MTEB / mteb 1.x, v2 = mteb 2.x) is marked and kept
    out of the mean and the order.

    \b
    Examples:
      embedlab leaderboard results/
      embedlab leaderboard results/ --sort T2Reranking --format markdown
      embedlab leaderboard results/ --mteb ~/src/mteb-results --mteb-model 'BAAI/*'
    """
    from embedlab.metrics.names import score_name
    from embedlab.results.leaderboard import leaderboard

    board = leaderboard(directory, sort=sort, metric=score_name(metric) if metric else None, mteb=mteb,
                        mteb_models=mteb_models)
    others = len(board.skipped) - len(board.damaged)
    if others:
        click.echo(f"note: skipped {others} JSON file(s) that are not embedlab results", err=True)
    for line in board.notes:
        click.echo(f"note: {line}", err=True)
    if fmt == "json":
        click.echo(json.dumps({"columns": board.tasks, "rows": board.rows, "variants": board.variants,
                               "notes": board.notes}, ensure_ascii=False, indent=1))
        return
    from embedlab.report.leaderboard import markdown_leaderboard, rich_leaderboard, variant_notes

    for line in variant_notes(board):
        click.echo(f"note: {line}", err=True)

    if fmt == "markdown":
        click.echo(markdown_leaderboard(board))
        return
    from embedlab.report.table import stdout

    stdout().print(rich_leaderboard(board, str(directory)))
