"""`embedlab estimate`: what an `eval` would send and cost, without sending a single request."""

from __future__ import annotations

import click

from embedlab.cli.options import (
    COST,
    DATA,
    MODEL_SETTINGS,
    MODELS,
    QUIET,
    RERANKER,
    SAMPLE,
    Command,
    format_option,
    options,
    quiet_libraries,
)
from embedlab.cli.setup import run_setup


@click.command("estimate", cls=Command)
@options(MODELS, DATA, SAMPLE, MODEL_SETTINGS, RERANKER, COST)
@format_option("table", "json")
@options([QUIET])
def estimate_command(max_cost, price_per_mtok, fmt, quiet, **opts) -> None:
    """What an `eval` would send and cost, without sending a single request.

    Counts unique texts per model (as eval de-duplicates them), those already in the cache, requests,
    tokens (the model's tokenizer for local models; estimated from characters for API models, labelled
    so) and cost from a price table you can override. For local models, the time to encode them: measured on a
    probe of a few dozen of the texts after a warm-up, and extrapolated. With --max-cost, exits 2 when `eval`
    would refuse.

    \b
    Examples:
      embedlab estimate --demo
      embedlab estimate -m qianfan:embedding-v1 --reranking t2.jsonl --sample 1000 --seed 42 --format json
    """
    from embedlab.run.estimate import check_cost, estimate

    quiet_libraries(quiet)
    models, tasks, options, run = run_setup(opts)
    rows = estimate(models, tasks, model=options, cache=run.cache, price_per_mtok=price_per_mtok, probe=True)
    if run.reranker:
        rows.append(_estimate_reranker(run, tasks, price_per_mtok))
    if fmt == "json":
        import json

        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        from embedlab.report.estimate import estimate_table
        from embedlab.report.table import stdout

        stdout().print(estimate_table(rows))
    check_cost([row for row in rows if row.get("currency") != "(local)"], max_cost)


def _estimate_reranker(run, tasks, price_per_mtok) -> dict:
    """The reranker's row: the pairs of reranking rows, and at most queries x depth pairs on retrieval."""
    from embedlab.models.registry import load_reranker
    from embedlab.run.estimate import estimate_reranker
    from embedlab.run.plan import check_rerank_depths

    depths = check_rerank_depths(run.reranker, run.rerank_depths, tasks)
    reranker = load_reranker(run.reranker, run.reranker_options)
    try:
        return estimate_reranker(reranker, tasks, max(depths), cache=run.cache, price_per_mtok=price_per_mtok)
    finally:
        reranker.close()
