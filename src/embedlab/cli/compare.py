"""`embedlab compare`: models side by side with their uncertainty, from saved results files."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
from click.core import ParameterSource

from embedlab.cli.options import Finite
from embedlab.cli.renamed import renamed

QUERIES = 10  # the queries `compare` and `report` show per retrieval task, where runs were saved
_SIGNIFICANCE = click.Choice(["permutation", "t"])


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--baseline", default=None, help="Model to compare against [default: the first one].")
@click.option("--metric", default=None, help="Metric [default: each task's main score].")
@click.option("--significance", "test", type=_SIGNIFICANCE, default="permutation", show_default=True,
              help="Paired randomization (sign-flip) test, or paired t-test.")
@renamed("--test", "--significance", "test", type=_SIGNIFICANCE)
@click.option("--alpha", type=Finite(0, 1, min_open=True, max_open=True), default=0.05, show_default=True)
@click.option("--margin", type=Finite(0, min_open=True), default=0.01, show_default=True,
              help="For sampled runs: rows needed for a CI of ± this much (0.01 = one point).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap and permutations.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--queries", type=click.IntRange(0), default=QUERIES, show_default=True, metavar="N",
              help="Per retrieval task, the N queries where each model and the baseline differ most, with both "
                   "models' top 5, grades and first relevant rank (from runs saved by `eval --save-run`; 0: none).")
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
    from embedlab.metrics.names import score_name
    from embedlab.results.compare import compare

    loaded, notes = merged_results(runs)
    comparisons = compare(loaded, metric=score_name(metric) if metric else None, baseline=baseline,
                          test=test, alpha=alpha, margin=margin, seed=seed)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    asked = click.get_current_context().get_parameter_source("queries") is not ParameterSource.DEFAULT
    analyses = _query_analyses(loaded, comparisons, queries, asked) if queries else []
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


def merged_results(paths) -> tuple[list, list[str]]:
    """The results files, each run that repeats another counted once (`results.duplicates`), and a note for each
    merge (to say once the command has its answer: a bad option stays one line): `compare` and `report` count the
    same runs."""
    from embedlab.results import Results
    from embedlab.results.duplicates import merge_duplicates

    return merge_duplicates([Results.from_json(path) for path in paths], [str(path) for path in paths])


def _query_analyses(loaded, comparisons, n: int, asked: bool) -> list:
    """The analyses of `--queries`, with a note on stderr for each one skipped (or, when asked for, when no run
    was saved)."""
    from embedlab.results.query_diff import query_analyses

    analyses, notes = query_analyses(loaded, comparisons, n)
    if not analyses and not notes and asked:
        notes = ["--queries: no saved runs in these results (evaluate with `eval --save-run DIR`)"]
    for note in notes:
        click.echo(f"note: {note}", err=True)
    return analyses


def print_comparisons(comparisons) -> None:
    from embedlab.report.compare import margin_note, rich_comparison
    from embedlab.report.table import stdout

    console = stdout()
    for c in comparisons:
        console.print(rich_comparison(c))
        note = margin_note(c)
        if note:
            click.echo(f"note: {note}", err=True)
        if c.missing:
            click.echo(f"note: {c.task}: not in {', '.join(c.missing)}", err=True)
