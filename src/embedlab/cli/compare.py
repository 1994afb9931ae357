"""`embedlab compare`: models side by side with their uncertainty, from saved results files."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from embedlab.cli.options import renamed

_SIGNIFICANCE = click.Choice(["permutation", "t"])
_FILE = click.Path(dir_okay=False, path_type=Path)
_SUFFIXES = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--baseline", default=None, help="Model to compare against [default: the first one].")
@click.option("--metric", default=None, help="Metric [default: each task's main score].")
@click.option("--significance", "test", type=_SIGNIFICANCE, default="permutation", show_default=True,
              help="Paired randomization (sign-flip) test, or paired t-test.")
@renamed("--test", "--significance", "test", type=_SIGNIFICANCE)
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True)
@click.option("--margin", type=click.FloatRange(0, min_open=True), default=0.01, show_default=True,
              help="For sampled runs: rows needed for a CI of ± this much (0.01 = one point).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap and permutations.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--queries", type=click.IntRange(0), default=0, metavar="N",
              help="Per retrieval task, the N queries where each model and the baseline differ most, with both "
                   "models' top 5, grades and first relevant rank (needs runs saved by `eval --save-run`).")
def compare_command(runs, baseline, metric, test, alpha, margin, seed, fmt, queries) -> None:
    """Compare models from results files (of `embedlab eval`) on the same queries.

    For each task: the mean with a bootstrap confidence interval, the paired difference to the
    baseline with its interval, and a paired significance test, Holm-corrected across models.
    Runs on different data or different queries are refused.

    \b
    Examples:
      embedlab compare results/bge.json results/api-sample.json --baseline BAAI/bge-small-zh-v1.5
      embedlab compare results/bge.json results/tuned.json --significance t --format json
      embedlab compare results/prod-vs-bge.json --queries 20    # where they differ, and why
    """
    from embedlab.results import Results
    from embedlab.results.compare import compare
    from embedlab.metrics.names import score_name

    loaded = [Results.from_json(path) for path in runs]
    comparisons = compare(loaded, metric=score_name(metric) if metric else None, baseline=baseline,
                          test=test, alpha=alpha, margin=margin, seed=seed)
    analyses = _query_analyses(loaded, comparisons, queries) if queries else []
    if fmt == "json":
        out = [c.as_dict() for c in comparisons]
        for c, entry in zip(comparisons, out) if queries else ():
            entry["queries"] = [asdict(a) for a in analyses if a.task == c.task]
        click.echo(json.dumps(out, ensure_ascii=False, indent=1))
        return
    print_comparisons(comparisons)
    if analyses:
        from embedlab.report.query_diff import rich_analysis
        from embedlab.report.table import stdout

        for analysis in analyses:
            stdout().print(rich_analysis(analysis))


def _query_analyses(loaded, comparisons, n: int) -> list:
    """The analyses of `--queries`, with a note on stderr for each one skipped (or when no run was saved)."""
    from embedlab.results.query_diff import query_analyses

    analyses, notes = query_analyses(loaded, comparisons, n)
    if not analyses and not notes:
        notes = ["--queries: no saved runs in these results (evaluate with `eval --save-run DIR`)"]
    for note in notes:
        click.echo(f"note: {note}", err=True)
    return analyses


def print_comparisons(comparisons) -> None:
    from embedlab.report.table import stdout

    from embedlab.report.compare import margin_note, rich_comparison

    console = stdout()
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
    if board.skipped:
        click.echo(f"note: skipped {len(board.skipped)} JSON file(s) that are not embedlab results", err=True)
    if fmt == "json":
        click.echo(json.dumps({"columns": board.tasks, "rows": board.rows, "variants": board.variants},
                              ensure_ascii=False, indent=1))
        return
    from embedlab.report.leaderboard import markdown_leaderboard, rich_leaderboard, variant_notes

    for line in variant_notes(board):
        click.echo(f"note: {line}", err=True)

    if fmt == "markdown":
        click.echo(markdown_leaderboard(board))
        return
    from embedlab.report.table import stdout

    stdout().print(rich_leaderboard(board, str(directory)))


@click.command("report")
@click.argument("runs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--curve", "curves", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A fine-tuning curve.json (from `embedlab finetune`) to include. Repeatable.")
@click.option("-o", "--output", "outputs", multiple=True, type=_FILE,
              help="A file to write, in the format of its suffix: .html/.htm = one self-contained page (plots "
                   "inlined, no network), .md/.markdown = markdown tables (for pull requests); '-' = markdown "
                   "on stdout. Repeatable.")
@renamed("--html", "--output", "outputs", value=lambda path: (path, "html"), type=_FILE)
@renamed("--markdown", "--output", "outputs", value=lambda path: (path, "markdown"), type=_FILE)
@click.option("--format", "fmt", type=click.Choice(["html", "markdown"]), default=None,
              help="Write every -o in this format, whatever its suffix.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files (never one of the inputs).")
@click.option("--baseline", default=None, help="Model the others are compared with [default: the first].")
@click.option("--title", default="embedlab report", show_default=True)
@click.option("--price-per-mtok", type=float, default=None,
              help="API cost of models the price table does not know (a custom endpoint), per million tokens; "
                   "a price recorded by `eval --price-per-mtok` wins.")
@click.option("--queries", type=click.IntRange(0), default=10, show_default=True, metavar="N",
              help="Per retrieval task, the N queries where each model and the baseline differ most, with both "
                   "models' top 5 (from runs saved by `eval --save-run`; 0: none).")
def report_command(runs, curves, outputs, fmt, overwrite, baseline, title, price_per_mtok, queries) -> None:
    """A report of results files (and fine-tuning curves) as HTML and/or markdown.

    \b
    Examples:
      embedlab report results/bge.json results/tuned.json -o report.html -o report.md
      embedlab report results/*.json --curve runs/bge-t2/curve.json -o -    # markdown on stdout
    """
    if not runs and not curves:
        raise click.UsageError("give results files and/or --curve files")
    if not outputs:
        raise click.UsageError("give -o FILE (.html or .md; '-' for markdown on stdout)")
    targets = _targets(outputs, fmt, inputs=[*runs, *curves], overwrite=overwrite)
    from embedlab.data.output import write_text
    from embedlab.report.page import build
    from embedlab.results import Results
    from embedlab.results.curve import Curve

    page, markdown = build([Results.from_json(p) for p in runs], curves=[Curve.load(p) for p in curves],
                           baseline=baseline, title=title, price_per_mtok=price_per_mtok, queries=queries)
    for path, kind in targets:
        text = page if kind == "html" else markdown + "\n"
        if str(path) == "-":
            click.echo(text, nl=False)
        else:
            write_text(path, text)
            click.echo(f"{kind} report written to {path}", err=True)


def _targets(outputs, fmt, *, inputs, overwrite) -> list[tuple[Path, str]]:
    """(path, format) per output, each checked before any work: the format is --format's, the old option's
    (--html / --markdown), or the suffix's; '-' is markdown on stdout."""
    from embedlab.data.output import check_output

    targets = []
    for output in outputs:
        path, kind = output if isinstance(output, tuple) else (output, fmt)
        kind = kind or ("markdown" if str(path) == "-" else _SUFFIXES.get(path.suffix.lower()))
        if kind is None:
            raise click.UsageError(f"-o {path}: no format for the suffix {path.suffix!r}: "
                                   "name it .html or .md, or give --format html|markdown")
        if str(path) != "-":
            check_output(path, inputs=inputs, overwrite=overwrite)
        targets.append((path, kind))
    return targets
