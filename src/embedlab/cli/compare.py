"""`embedlab compare`: models side by side with their uncertainty, from saved results files."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--baseline", default=None, help="Model to compare against [default: the first one].")
@click.option("--metric", default=None, help="Metric [default: each task's main score].")
@click.option("--test", "test", type=click.Choice(["permutation", "t"]), default="permutation", show_default=True,
              help="Paired randomization (sign-flip) test, or paired t-test.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True)
@click.option("--margin", type=click.FloatRange(0, min_open=True), default=0.01, show_default=True,
              help="For sampled runs: rows needed for a CI of ± this much (0.01 = one point).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap and permutations.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def compare_command(runs, baseline, metric, test, alpha, margin, seed, fmt) -> None:
    """Compare models from results files (of `embedlab eval`) on the same queries.

    For each task: the mean with a bootstrap confidence interval, the paired difference to the
    baseline with its interval, and a paired significance test, Holm-corrected across models.
    Runs on different data or different queries are refused.

    \b
    Example:
      embedlab compare results/bge.json results/api-sample.json --baseline BAAI/bge-small-zh-v1.5
    """
    from embedlab.results import Results
    from embedlab.results.compare import compare
    from embedlab.metrics.names import score_name

    loaded = [Results.from_json(path) for path in runs]
    comparisons = compare(loaded, metric=score_name(metric) if metric else None, baseline=baseline,
                          test=test, alpha=alpha, margin=margin, seed=seed)
    if fmt == "json":
        click.echo(json.dumps([c.as_dict() for c in comparisons], ensure_ascii=False, indent=1))
        return
    print_comparisons(comparisons)


def print_comparisons(comparisons) -> None:
    from rich.console import Console

    from embedlab.report.compare import margin_note, rich_comparison

    console = Console()
    for c in comparisons:
        console.print(rich_comparison(c))
        note = margin_note(c)
        if note:
            click.echo(f"note: {note}", err=True)
        if c.missing:
            click.echo(f"note: {c.task}: not in {', '.join(c.missing)}", err=True)


@click.command("leaderboard")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--sort", default=None, help="Task to sort by [default: the mean over tasks].")
@click.option("--metric", default=None, help="Metric per task [default: each task's main score].")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json"]), default="table",
              show_default=True)
def leaderboard_command(directory, sort, metric, fmt) -> None:
    """Every run in a results directory as one table (a row per model run, a column per task)."""
    from embedlab.results.table import short_name
    from embedlab.results.leaderboard import leaderboard
    from embedlab.metrics.names import score_name

    board = leaderboard(directory, sort=sort, metric=score_name(metric) if metric else None)
    if board.skipped:
        click.echo(f"note: skipped {len(board.skipped)} JSON file(s) that are not embedlab results", err=True)
    if fmt == "json":
        click.echo(json.dumps({"columns": board.tasks, "rows": board.rows}, ensure_ascii=False, indent=1))
        return
    header = ["#", "model", *board.tasks, "mean", "file"]
    lines = [[str(i + 1), short_name(r["model"]),
              *(f"{100 * r['scores'][c]:.2f}" if c in r["scores"] else "–" for c in board.tasks),
              f"{100 * r['mean']:.2f}" if r["mean"] is not None else "–", r["file"]]
             for i, r in enumerate(board.rows)]
    if fmt == "markdown":
        click.echo("| " + " | ".join(header) + " |")
        click.echo("|" + "---|" * len(header))
        for line in lines:
            click.echo("| " + " | ".join(line) + " |")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{directory}: {len(lines)} runs, scores ×100", title_justify="left")
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if name in ("model", "file") else "right")
    for line in lines:
        table.add_row(*line)
    Console().print(table)


@click.command("report")
@click.argument("runs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--curve", "curves", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A fine-tuning curve.json (from `embedlab finetune`) to include. Repeatable.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write one self-contained HTML page (plots inlined, no network).")
@click.option("--markdown", "markdown_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write markdown tables (for pull requests); '-' for stdout.")
@click.option("--baseline", default=None, help="Model the others are compared with [default: the first].")
@click.option("--title", default="embedlab report", show_default=True)
def report_command(runs, curves, html_path, markdown_path, baseline, title) -> None:
    """A report of results files (and fine-tuning curves) as HTML and/or markdown."""
    if not runs and not curves:
        raise click.UsageError("give results files and/or --curve files")
    if not html_path and not markdown_path:
        raise click.UsageError("give --html FILE and/or --markdown FILE")
    from embedlab.data.output import write_text
    from embedlab.report.page import build
    from embedlab.results import Results
    from embedlab.results.curve import Curve

    page, markdown = build([Results.from_json(p) for p in runs], curves=[Curve.load(p) for p in curves],
                           baseline=baseline, title=title)
    if html_path:
        write_text(html_path, page)
        click.echo(f"report written to {html_path}", err=True)
    if markdown_path:
        if str(markdown_path) == "-":
            click.echo(markdown)
        else:
            write_text(markdown_path, markdown + "\n")
            click.echo(f"markdown written to {markdown_path}", err=True)
