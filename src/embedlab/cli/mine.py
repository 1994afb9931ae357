"""`embedlab mine`: hard negatives for training data, with likely false negatives filtered and reported."""

from __future__ import annotations

import json
from pathlib import Path

import click

from embedlab.cli.options import (
    engine_options,
    model_options,
    pop_engine_options,
    pop_model_options,
    quiet_libraries,
    quiet_option,
)
from embedlab.models.registry import backend_help


@click.command("mine")
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option("-m", "--model", required=True, metavar="MODEL",
              help="The mining model. Backends: " + backend_help())
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Output JSONL.")
@click.option("--corpus", type=click.Path(exists=True, path_type=Path), default=None,
              help="Candidate passages: a corpus file ({_id, title?, text}) or a retrieval folder. "
                   "Default: the union of every passage in DATA (a retrieval DATA folder: its corpus).")
@click.option("--range-min", type=click.IntRange(0), default=0, show_default=True,
              help="Skip the N best-ranked candidates (FlagEmbedding's 10-210 = --range-min 10 --range-max 210).")
@click.option("--range-max", type=click.IntRange(1), default=100, show_default=True,
              help="Consider candidates up to this rank.")
@click.option("-n", "--num-negatives", type=click.IntRange(1), default=7, show_default=True,
              help="Negatives per row (7 = finetune's group size 8 minus the positive).")
@click.option("--sampling", type=click.Choice(["top", "random"]), default="top", show_default=True,
              help="Take the hardest surviving candidates, or a seeded random sample of them.")
@click.option("--relative-margin", type=float, default=0.05, show_default=True,
              help="Drop candidates scoring above positive - |positive| x margin (likely false negatives).")
@click.option("--absolute-margin", type=float, default=None,
              help="Drop candidates scoring above positive - margin.")
@click.option("--max-score", type=float, default=None, help="Drop candidates scoring above this.")
@click.option("--min-score", type=float, default=None, help="Drop candidates scoring below this (too easy).")
@click.option("--no-filter", is_flag=True, help="No false-negative filter at all (overrides the margins).")
@click.option("--check-model", default=None, metavar="MODEL",
              help="A second model: a candidate must also pass the margins with its scores "
                   "(with no margin given: score below the positive's).")
@click.option("--keep-given", is_flag=True, help="Keep each row's own negatives first; mined ones fill up.")
@click.option("--to", "output_format", type=click.Choice(["flag", "reranking"]), default="flag",
              show_default=True,
              help="Output layout: flag = {query, pos, neg} (FlagEmbedding); reranking = {query, positive, negative}.")
@click.option("--with-scores", is_flag=True, help="Add pos_scores / neg_scores (the mining model's cosines).")
@click.option("--search", type=click.Choice(["exact", "faiss", "faiss-ivf", "faiss-hnsw"]), default="exact",
              show_default=True,
              help="Exact blocked search (bounded memory), faiss IndexFlatIP, or a faiss IVF / HNSW index (pip "
                   "install 'embedlab[faiss]'; the settings of eval --search); an approximate index's cost is "
                   "reported: recall@range-max of its candidate lists against exact search, on a seeded sample "
                   "of 200 rows.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sampling random.")
@click.option("--split", default=None, help="Split to read when DATA has several.")
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=None,
              help="Report JSON [default: OUTPUT with .report.json].")
@click.option("--format", "report_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="The report on stdout: a table, or JSON.")
@click.option("--max-cost", type=float, default=None,
              help="API models: stop before sending anything if the estimated cost is higher.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output or report.")
@quiet_option
@model_options
@engine_options
def mine_command(data, model, output, corpus, range_min, range_max, num_negatives, sampling,
                 relative_margin, absolute_margin, max_score, min_score, no_filter, check_model,
                 keep_given, output_format, with_scores, search, seed, split, report_path, report_format,
                 max_cost, overwrite, quiet, **opts) -> None:
    """Mine hard negatives for DATA (reranking / FlagEmbedding JSONL, parquet, HF dir, or a retrieval folder).

    Every query searches the candidate corpus with MODEL; candidates in the rank range become negatives
    unless they look like false negatives: the same text as a positive, a positive of the same query
    elsewhere in the file, or too close to the positive's score (--relative-margin, --absolute-margin,
    --max-score, --check-model). The report counts what each filter dropped, with examples.

    \b
    Examples:
      embedlab mine train.jsonl -m BAAI/bge-small-zh-v1.5 -o train.mined.jsonl
      embedlab mine train.jsonl -m ./model --range-min 10 --range-max 210 -n 15 --sampling random
      embedlab mine my_retrieval_dir/ -m ./model --check-model openai:text-embedding-3-small -o rows.jsonl
    """
    from embedlab.mining import MiningConfig, default_report_path, mine
    from embedlab.report.mining import print_mining_report

    if output.resolve() == data.resolve():
        raise click.UsageError("--output must not be the input file")
    quiet_libraries(quiet)
    options, cache = pop_model_options(opts)
    config = MiningConfig(range_min=range_min, range_max=range_max, num_negatives=num_negatives,
                          sampling=sampling, seed=seed, keep_given=keep_given, index=search,
                          relative_margin=None if no_filter else relative_margin,
                          absolute_margin=None if no_filter else absolute_margin,
                          max_score=None if no_filter else max_score, min_score=min_score)
    try:
        config.check()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    report_path = report_path or default_report_path(output)
    report = mine(data, model, output, config=config, options=options, corpus=corpus, check_model=check_model,
                  cache=cache, output_format=output_format, with_scores=with_scores, split=split,
                  max_cost=max_cost, overwrite=overwrite, report_path=report_path, progress=not quiet,
                  announce=lambda line: click.echo(line, err=True), engine=pop_engine_options(opts, not quiet))
    if report_format == "json":
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        print_mining_report(report.as_dict())
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {output} and {report_path}", err=True)
