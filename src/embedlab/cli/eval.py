"""`embedlab eval`: score models on reranking and / or retrieval data; the table, the comparison, a sweep's and a
stack's own tables on stdout, notes on stderr, the results JSON written."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from embedlab.cli.compare import print_comparisons
from embedlab.cli.options import (
    COST,
    DATA,
    ENGINE,
    INDEX,
    MODEL_SETTINGS,
    MODELS,
    OVERWRITE,
    QUIET,
    RERANKER,
    SAMPLE,
    Command,
    format_option,
    option,
    options,
    quiet_libraries,
)
from embedlab.cli.setup import run_setup


@click.command("eval", cls=Command)
@options(MODELS, DATA, SAMPLE, MODEL_SETTINGS, RERANKER, ENGINE, INDEX, COST)
@option("Output", "--metric", "metrics", multiple=True,
        help="Rows to show (e.g. ndcg@10, v1.map); all metrics are always in the JSON.")
@format_option("table", "json")
@option("Output", "-o", "--output", type=click.Path(path_type=Path), default=None,
        help="Results JSON path [default: results/eval-<time>.json]; an existing results file is replaced (results "
             "are regenerated), another existing file only with --overwrite, an input or a folder never.")
@option("Output", "--save-run", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
        help="Save each model's top 100 per retrieval query as a TREC run, DIR/<task>/<model>.trec (for trec_eval, "
             "ranx, -m run:, and the queries `compare --queries` / `report` show); a run of the same model and task "
             "is replaced.")
@options([OVERWRITE, QUIET])
def eval_command(metrics, fmt, output, overwrite, quiet, max_cost, price_per_mtok, save_run, **opts) -> None:
    """Score embedding models on reranking and/or retrieval data.

    \b
    Examples:
      embedlab eval --demo
      embedlab eval -m BAAI/bge-small-zh-v1.5 -m ./my-finetuned --reranking t2.jsonl \\
          --query-instruction "为这个句子生成表示以用于检索相关文章："
      embedlab eval -m openai:text-embedding-v4 --api-key-env DASHSCOPE_API_KEY \\
          --base-url https://dashscope.aliyuncs.com/compatible-mode/v1 --max-inputs 10 \\
          --reranking t2.jsonl --sample 1000 --seed 42
    """
    from embedlab.metrics.names import score_name
    from embedlab.run.evaluation import IncompleteRun, evaluate

    metrics = [score_name(m) for m in metrics]
    quiet_libraries(quiet)
    output = output or Path("results") / f"eval-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    models, tasks, options, run = run_setup(opts, output, overwrite=overwrite, progress=not quiet, max_cost=max_cost,
                                            price_per_mtok=price_per_mtok, save_run=save_run,
                                            announce=lambda line: click.echo(line, err=True))
    try:
        results = evaluate(models, tasks, model=options, run=run)
    except IncompleteRun as incomplete:  # keep what finished: a rerun completes it (from the cache for APIs)
        results = incomplete.results
    results.to_json(output)
    report_notes(results)
    if fmt == "json":
        click.echo(results.to_json())
    else:
        print_tables(results, metrics, price_per_mtok)
    click.echo(f"results written to {output}", err=True)
    if save_run is not None:
        saved = sum(len(run.model.get("saved_runs", {})) for run in results.runs)
        click.echo(f"{saved} run(s) written to {save_run}" if saved else "note: --save-run: no retrieval task, "
                   "no run written (runs rank a corpus; reranking rows have none)", err=True)
    if results.failures:
        for failure in results.failures:
            click.echo(f"error: {failure['model']} on {failure['task']}: {failure['error']}", err=True)
        click.echo(f"error: {len(results.failures)} result(s) missing; the {sum(len(r.tasks) for r in results.runs)} "
                   f"that finished are in {output}; run the same command again to complete it", err=True)
        sys.exit(1)


def print_tables(results, metrics, price_per_mtok) -> None:
    """The score table (a sweep's points left to its own table), the comparison, sweeps and stacks; the notes of
    fusions and sweeps on stderr."""
    from embedlab.report.table import rich_table, stdout
    from embedlab.results import Results
    from embedlab.results.compare import compare
    from embedlab.results.costs import cost_rows
    from embedlab.results.stack import stack_rows
    from embedlab.results.sweep import fusion_notes, sweep_summaries

    sweeps = sweep_summaries(results)
    shown = Results([run for run in results.runs if run.kind != "weights"], results.environment, results.created,
                    results.seed) if sweeps else results  # a sweep's points have their own table
    console = stdout()
    console.print(rich_table(shown, metrics or None))
    if len(shown.runs) > 1:
        print_comparisons(compare(shown))
    if sweeps:
        from embedlab.report.sweep import rich_sweep

        for summary in sweeps:
            for part in rich_sweep(summary):
                console.print(part)
    rows = stack_rows(results)
    if rows:
        from embedlab.report.stack import rich_stack

        console.print(rich_stack(rows, price_per_mtok))
    costs = cost_rows(results)
    if costs:
        from embedlab.report.costs import rich_costs

        console.print(rich_costs(costs))
    for note in fusion_notes(results) + [s.note for s in sweeps if s.note]:
        click.echo(f"note: {note}", err=True)


def report_notes(results) -> None:
    """One stderr line per thing a user must know: skipped rows, API usage, truncated texts, approximate search."""
    from embedlab.report.notes import result_notes

    for note in result_notes(results):
        click.echo(f"note: {note}", err=True)
