"""`embedlab mine`: hard negatives for training data, with likely false negatives filtered and reported."""

from __future__ import annotations

import json
from pathlib import Path

import click

from embedlab.cli.options import (
    API,
    CACHE,
    COST,
    ENCODING,
    ENGINE,
    FINITE,
    INDEX,
    OVERWRITE,
    QUIET,
    Command,
    Finite,
    option,
    options,
    pop_engine_options,
    pop_model_options,
    quiet_libraries,
)
from embedlab.models.registry import backend_help


@click.command("mine", cls=Command)
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@option("Model", "-m", "--model", required=True, metavar="MODEL",
        help="The mining model (an embedding model). Backends: " + backend_help())
@options(ENCODING, API, CACHE, ENGINE, INDEX, COST)
@option("Output", "-o", "--output", type=click.Path(path_type=Path), required=True, help="Output JSONL.")
@option("Mining", "--corpus", type=click.Path(exists=True, path_type=Path), default=None,
        help="Candidate passages: a corpus file ({_id, title?, text}) or a retrieval folder. "
        "Default: the union of every passage in DATA (a retrieval DATA folder: its corpus).")
@option("Mining", "--range-min", type=click.IntRange(0), default=0, show_default=True,
        help="Skip the N best-ranked candidates (FlagEmbedding's 10-210 = --range-min 10 --range-max 210).")
@option("Mining", "--range-max", type=click.IntRange(1), default=100, show_default=True,
        help="Consider candidates up to this rank.")
@option("Mining", "-n", "--num-negatives", type=click.IntRange(1), default=7, show_default=True,
        help="Negatives per row (7 = finetune's group size 8 minus the positive).")
@option("Mining", "--sampling", type=click.Choice(["top", "random"]), default="top", show_default=True,
        help="Take the hardest surviving candidates, or a seeded random sample of them.")
@option("Mining", "--relative-margin", type=Finite(0, 1, max_open=True), default=0.05, show_default=True,
        help="Drop candidates scoring above positive - |positive| x margin (likely false negatives).")
@option("Mining", "--absolute-margin", type=FINITE, default=None,
        help="Drop candidates scoring above positive - margin.")
@option("Mining", "--max-score", type=FINITE, default=None, help="Drop candidates scoring above this.")
@option("Mining", "--min-score", type=FINITE, default=None, help="Drop candidates scoring below this (too easy).")
@option("Mining", "--no-filter", is_flag=True, help="No false-negative filter at all (overrides the margins).")
@option("Mining", "--check-model", default=None, metavar="MODEL",
        help="A second model: a candidate must also pass the margins with its scores "
        "(with no margin given: score below the positive's).")
@option("Mining", "--keep-given", is_flag=True, help="Keep each row's own negatives first; mined ones fill up.")
@option("Mining", "--to", "output_format", type=click.Choice(["flag", "reranking"]), default="flag",
        show_default=True,
        help="Output layout: flag = {query, pos, neg} (FlagEmbedding); reranking = {query, positive, negative}.")
@option("Mining", "--with-scores", is_flag=True, help="Add pos_scores / neg_scores (the mining model's cosines).")
@option("Mining", "--seed", type=int, default=0, show_default=True, help="Seed of --sampling random.")
@option("Data", "--split", default=None, help="Split to read when DATA has several.")
@option("Output", "--report", "report_path", type=click.Path(path_type=Path), default=None,
        help="Report JSON [default: OUTPUT with .report.json].")
@option("Output", "--format", "report_format", type=click.Choice(["table", "json"]), default="table",
        show_default=True, help="The report on stdout: a table, or JSON.")
@options([OVERWRITE, QUIET])
def mine_command(data, model, output, corpus, range_min, range_max, num_negatives, sampling,
                 relative_margin, absolute_margin, max_score, min_score, no_filter, check_model,
                 keep_given, output_format, with_scores, index, seed, split, report_path, report_format,
                 max_cost, price_per_mtok, overwrite, quiet, **opts) -> None:
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
    from embedlab.run.options import RunOptions

    if output.resolve() == data.resolve():
        raise click.UsageError("--output must not be the input file")
    quiet_libraries(quiet)
    from embedlab.cli.setup import run_requires
    from embedlab.models.registry import check_installed

    check_installed([model, *([check_model] if check_model else [])], others=run_requires({**opts, "index": index}))
    settings, cache = pop_model_options(opts)
    config = MiningConfig(range_min=range_min, range_max=range_max, num_negatives=num_negatives,
                          sampling=sampling, seed=seed, keep_given=keep_given, index=index,
                          relative_margin=None if no_filter else relative_margin,
                          absolute_margin=None if no_filter else absolute_margin,
                          max_score=None if no_filter else max_score, min_score=min_score)
    try:
        config.check()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    report_path = report_path or default_report_path(output)
    run = RunOptions(cache=cache, split=split, max_cost=max_cost, price_per_mtok=price_per_mtok, progress=not quiet,
                     announce=lambda line: click.echo(line, err=True), engine=pop_engine_options(opts, not quiet))
    report = mine(data, model, output, config=config, options=settings, run=run, corpus=corpus,
                  check_model=check_model, output_format=output_format, with_scores=with_scores, overwrite=overwrite,
                  report_path=report_path)
    if report_format == "json":
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        print_mining_report(report.as_dict())
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {output} and {report_path}", err=True)
