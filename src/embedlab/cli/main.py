"""`embedlab` CLI. Results go to stdout, progress and messages to stderr; bad input exits 2 with one line."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

import click

from embedlab import __version__
from embedlab.cli.options import (
    engine_options,
    pop_engine_options,
    pop_model_options,
    pop_reranker_options,
    quiet_libraries,
    quiet_option,
    shared_options,
)
from embedlab.errors import EmbedlabError


class _Group(click.Group):
    """Turns embedlab's typed errors into one clear line and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EmbedlabError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="embedlab")
@click.option("-v", "--verbose", is_flag=True, help="Log details to stderr.")
def cli(verbose: bool) -> None:
    """Which text-embedding model for your RAG data? Evaluate, compare, fine-tune."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


def run_setup(opts: dict, output: Path | None = None, **run_extra):
    """(model specs, loaded tasks, ModelOptions, RunOptions) from the shared options (consumed from opts).

    The data is read here, once: the estimate and the run get the same task objects. An `output` given is
    checked first: never an input nor a folder; an existing results file is regenerated without --overwrite."""
    from embedlab.data.resolve import distinct_names
    from embedlab.evaluation import RunOptions, load_tasks

    models = list(opts.pop("models"))
    reranking, retrieval = list(opts.pop("reranking")), list(opts.pop("retrieval"))
    task_names, demo = list(opts.pop("task_names")), opts.pop("demo")
    if demo:
        from embedlab import demo as bundled

        models = models or [bundled.default_model()]
        reranking = reranking or [bundled.RERANKING]
        retrieval = retrieval or [bundled.RETRIEVAL]
    if not models:
        raise click.UsageError("give at least one --model (or --demo)")
    if not reranking and not retrieval and not task_names:
        raise click.UsageError("give --reranking and/or --retrieval data, --task NAME (or --demo)")
    if output is not None:
        from embedlab.data.output import check_output

        check_output(output, inputs=[*reranking, *retrieval], overwrite=True)
    options, cache = pop_model_options(opts)
    if "engine" in opts:  # eval (and mine) run on an engine; estimate only counts
        run_extra["engine"] = pop_engine_options(opts, run_extra.get("progress", False))
        if run_extra["engine"] is not None and run_extra["engine"].vectors is not None and len(models) > 1:
            raise click.UsageError("--vectors holds one model's vectors: give one -m with it, or leave it out")
        run_extra["search"] = opts.pop("search")
    run = RunOptions(cache=cache, **{key: opts.pop(key) for key in ("split", "sample", "seed", "prune_corpus",
                                                                     "data_dir")}, **run_extra,
                     **pop_reranker_options(opts, options))
    tasks = distinct_names(load_tasks(reranking, run, expect="reranking") + load_tasks(retrieval, run, expect="retrieval")
                           + load_tasks(task_names, run))
    return models, tasks, options, run


@cli.command("eval")
@shared_options
@click.option("--metric", "metrics", multiple=True,
              help="Rows to show (e.g. ndcg@10, v1.map); all metrics are always in the JSON.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Results JSON path [default: results/eval-<time>.json]; an existing results file is "
                   "replaced (results are regenerated), an input or a folder is refused.")
@quiet_option
@click.option("--max-cost", type=float, default=None,
              help="API models: stop before sending anything if the estimated cost is higher.")
@click.option("--price-per-mtok", type=float, default=None,
              help="API models: price per million tokens (overrides the built-in table; recorded for reports).")
@click.option("--save-run", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Save each model's top 100 per retrieval query as a TREC run, DIR/<task>/<model>.trec (for "
                   "trec_eval, ranx, -m run:, and the queries `compare --queries` / `report` show); a run of the "
                   "same model and task is replaced.")
@engine_options
@click.option("--search", type=click.Choice(["exact", "faiss-ivf", "faiss-hnsw"]), default="exact", show_default=True,
              help="Dense retrieval (a dense model alone or in a hybrid): exact blockwise search, or a faiss IVF / "
                   "HNSW index (pip install 'embedlab[faiss]'); its cost is measured and reported: recall@10 "
                   "against exact search and the nDCG@10 change with a 95% CI, on a seeded sample of 200 queries "
                   "per task.")
def eval_command(metrics, fmt, output, quiet, max_cost, price_per_mtok, save_run, **opts) -> None:
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

    metrics = [score_name(m) for m in metrics]
    quiet_libraries(quiet)
    models, tasks, options, run = run_setup(opts, output, progress=not quiet, max_cost=max_cost,
                                            price_per_mtok=price_per_mtok, save_run=save_run,
                                            announce=lambda line: click.echo(line, err=True))

    from embedlab.evaluation import IncompleteRun, evaluate

    try:
        results = evaluate(models, tasks, model=options, run=run)
    except IncompleteRun as incomplete:  # keep what finished: a rerun completes it (from the cache for APIs)
        results = incomplete.results
    output = output or Path("results") / f"eval-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    results.to_json(output)
    _report_notes(results)
    from embedlab.results import Results
    from embedlab.results.sweep import fusion_notes, is_sweep_point, sweep_summaries

    sweeps = sweep_summaries(results)
    if fmt == "json":
        click.echo(results.to_json())
    else:
        from embedlab.report.table import rich_table, stdout

        shown = Results([run for run in results.runs if not is_sweep_point(run)], results.environment,
                        results.created, results.seed) if sweeps else results  # the sweep has its own tables
        stdout().print(rich_table(shown, metrics or None))
        if len(shown.runs) > 1:
            from embedlab.results.compare import compare

            print_comparisons(compare(shown))
        _print_sweeps(sweeps)
        _print_stacks(results, price_per_mtok)
    for note in fusion_notes(results) + [s.note for s in sweeps if s.note]:
        click.echo(f"note: {note}", err=True)
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


@cli.command("estimate")
@shared_options
@click.option("--price-per-mtok", type=float, default=None,
              help="Price per million tokens (overrides the built-in table).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@quiet_option
def estimate_command(price_per_mtok, fmt, quiet, **opts) -> None:
    """What an `eval` would send and cost, without sending a single request.

    Counts unique texts per model (as eval de-duplicates them), those already in the cache, requests,
    tokens (the model's tokenizer for local models; estimated from characters for API models, labelled
    so) and cost from a price table you can override.

    \b
    Examples:
      embedlab estimate --demo
      embedlab estimate -m qianfan:embedding-v1 --reranking t2.jsonl --sample 1000 --seed 42 --format json
    """
    from embedlab.estimate import estimate

    quiet_libraries(quiet)
    models, tasks, options, run = run_setup(opts)
    rows = estimate(models, tasks, model=options, cache=run.cache, price_per_mtok=price_per_mtok)
    if run.reranker:
        rows.append(_estimate_reranker(run, tasks, price_per_mtok))
    if fmt == "json":
        import json

        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    from embedlab.report.table import stdout

    from embedlab.report.estimate import estimate_table

    stdout().print(estimate_table(rows))


def _estimate_reranker(run, tasks, price_per_mtok) -> dict:
    """The reranker's row: the pairs of reranking rows, and at most queries x depth pairs on retrieval."""
    from embedlab.estimate import estimate_reranker
    from embedlab.evaluation import check_rerank_depths
    from embedlab.models.registry import load_reranker

    depths = check_rerank_depths(run, tasks)
    reranker = load_reranker(run.reranker, run.reranker_options)
    try:
        return estimate_reranker(reranker, tasks, max(depths), cache=run.cache,
                                 price_per_mtok=price_per_mtok)
    finally:
        reranker.close()


@cli.group("cache")
def cache_group() -> None:
    """Inspect or clear the embedding cache."""


@cache_group.command("stats")
@click.option("--cache", "cache_path", type=click.Path(path_type=Path), default=None,
              help="Cache file [default: ~/.cache/embedlab/embeddings.sqlite].")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def cache_stats(cache_path, fmt) -> None:
    """Vectors stored per model key."""
    from embedlab.models.cache import DEFAULT_PATH, EmbeddingCache

    path = cache_path or DEFAULT_PATH
    if not path.exists():  # looking must not create one
        click.echo(f"{path}: no cache yet", err=True)
        return
    cache = EmbeddingCache(path)
    try:
        rows = cache.stats()
    finally:
        cache.close()
    if fmt == "json":
        import json

        click.echo(json.dumps({"path": str(path), "models": rows}, ensure_ascii=False, indent=1))
        return
    from embedlab.report.cache import cache_lines

    click.echo("\n".join(cache_lines(path, rows)))


@cache_group.command("clear")
@click.option("--cache", "cache_path", type=click.Path(path_type=Path), default=None)
@click.option("--model", "model_key", default=None, help="Only this model key (as `cache stats` shows).")
@click.confirmation_option(prompt="Delete the cached embeddings (they may have been paid for)?")
def cache_clear(cache_path, model_key) -> None:
    """Delete cached vectors (all, or one model key)."""
    from embedlab.models.cache import DEFAULT_PATH, EmbeddingCache

    path = cache_path or DEFAULT_PATH
    if not path.exists():
        click.echo(f"{path}: no cache, nothing to remove", err=True)
        return
    cache = EmbeddingCache(path)
    try:
        removed = cache.clear(model_key)
    finally:
        cache.close()
    click.echo(f"removed {removed:,} vectors", err=True)


def _print_sweeps(sweeps) -> None:
    from embedlab.report.sweep import rich_sweep
    from embedlab.report.table import stdout

    console = stdout()
    for summary in sweeps:
        for part in rich_sweep(summary):
            console.print(part)


def _print_stacks(results, price_per_mtok) -> None:
    """The stage-wise table of two-stage runs (--reranker), when there are any."""
    from embedlab.results.stack import stack_rows

    rows = stack_rows(results)
    if rows:
        from embedlab.report.stack import rich_stack
        from embedlab.report.table import stdout

        stdout().print(rich_stack(rows, price_per_mtok))


def _report_notes(results) -> None:
    """One stderr line per thing a user must know: skipped rows, API usage, truncated texts."""
    for t in results.runs[0].tasks if results.runs else []:
        skipped = {k.removeprefix("skipped_"): v for k, v in t.counts.items()
                   if k.startswith("skipped_") and v}
        if skipped:
            detail = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in skipped.items())
            click.echo(f"note: {t.task}: skipped {detail} (as mteb does)", err=True)
        if t.counts.get("queries_without_relevant"):
            click.echo(f"note: {t.task}: {t.counts['queries_without_relevant']:,} of {t.counts['queries']:,} "
                       "queries have no relevant document (every judgment 0): they score 0 in every mean, as in "
                       "mteb and pytrec_eval (`embedlab inspect` lists them)", err=True)
        if t.sample:
            click.echo(f"note: {t.task}: seeded sample of {t.sample['n']:,} of {t.sample['of']:,} "
                       f"(seed {t.sample['seed']})", err=True)
    from embedlab.results.query_diff import coverage_notes

    for note in coverage_notes(results):
        click.echo(f"note: {note}", err=True)
    for run in results.runs:
        usage = run.model.get("usage")
        if usage:
            truncated = usage.get("truncated", 0)
            click.echo(f"note: {run.model['name']}: {usage['requests']:,} requests "
                       f"({usage['retries']:,} retried), {usage['prompt_tokens']:,} tokens billed, "
                       f"{run.embedding['cache_hits']:,} texts from the cache"
                       + (f"; {truncated:,} texts truncated to the model's limit" if truncated else ""),
                       err=True)
        for task, cost in run.embedding.get("approximate_search", {}).items():
            from embedlab.scorers.approximate import cost_note

            click.echo(f"note: {run.model['name']} on {task}: {cost_note(cost)}", err=True)


# commands kept in their own modules, registered on the group defined above
from embedlab.cli.compare import (
    compare_command,
    leaderboard_command,
    print_comparisons,
    report_command,
)
from embedlab.cli.convert import convert_command
from embedlab.cli.finetune import finetune_command, split_command
from embedlab.cli.inspect import inspect_command
from embedlab.cli.mine import mine_command
from embedlab.cli.mteb import export_mteb_command
from embedlab.cli.deploy import sweep_command
from embedlab.cli.distil import distil_command

cli.add_command(compare_command)
cli.add_command(leaderboard_command)
cli.add_command(report_command)
cli.add_command(split_command)
cli.add_command(finetune_command)
cli.add_command(mine_command)
cli.add_command(inspect_command)
cli.add_command(convert_command)
cli.add_command(export_mteb_command)
cli.add_command(sweep_command)
cli.add_command(distil_command)


def main() -> None:
    cli(prog_name="embedlab")


if __name__ == "__main__":
    main()
