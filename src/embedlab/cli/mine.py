"""`embedlab mine`: hard negatives for training data, with likely false negatives filtered and reported."""

from __future__ import annotations

import json
from pathlib import Path

import click

from embedlab.cli.options import model_options, pop_model_options


@click.command("mine")
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option("-m", "--model", required=True, metavar="MODEL",
              help="The mining model: local directory, Hugging Face id, openai:<model>, qianfan:<model>.")
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
@click.option("--search", type=click.Choice(["exact", "faiss"]), default="exact", show_default=True,
              help="Exact blocked search (bounded memory), or faiss IndexFlatIP (pip install 'embedlab[faiss]').")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sampling random.")
@click.option("--split", default=None, help="Split to read when DATA has several.")
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=None,
              help="Report JSON [default: OUTPUT with .report.json].")
@click.option("--format", "report_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="The report on stdout: a table, or JSON.")
@click.option("--max-cost", type=float, default=None,
              help="API models: stop before sending anything if the estimated cost is higher.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@model_options
def mine_command(data, model, output, corpus, range_min, range_max, num_negatives, sampling,
                 relative_margin, absolute_margin, max_score, min_score, no_filter, check_model,
                 keep_given, output_format, with_scores, search, seed, split, report_path, report_format,
                 max_cost, quiet, **opts) -> None:
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
    from embedlab.cli.cost import announce_cost
    from embedlab.data.mining import MiningConfig, mine, read_corpus, read_rows, texts_to_embed
    from embedlab.embed import EmbeddingStore
    from embedlab.estimate import estimate_texts
    from embedlab.models import load_model
    from embedlab.models.cache import open_cache

    if output.resolve() == data.resolve():
        raise click.UsageError("--output must not be the input file")
    options, cache = pop_model_options(opts)
    config = MiningConfig(range_min=range_min, range_max=range_max, num_negatives=num_negatives,
                          sampling=sampling, seed=seed, keep_given=keep_given, search=search,
                          relative_margin=None if no_filter else relative_margin,
                          absolute_margin=None if no_filter else absolute_margin,
                          max_score=None if no_filter else max_score, min_score=min_score)
    try:
        config.check()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    source = read_rows(data, split=split)
    rows = source.rows
    for reason, count in source.skipped.items():
        click.echo(f"note: skipped {count:,} rows: {reason.replace('_', ' ')} (not in the output)", err=True)
    candidates = read_corpus(corpus) if corpus else source.candidates()
    stores = []
    for spec in [model] + ([check_model] if check_model else []):
        encoder = load_model(spec, options)
        stores.append(EmbeddingStore(encoder, batch_size=options.batch_size, progress=not quiet,
                                     cache=open_cache(cache, encoder.paid)))
    for store, second in zip(stores, (False, True)):
        if store.encoder.paid:  # before the first paid request
            texts = texts_to_embed(rows, candidates, config, second_model=second)
            announce_cost([estimate_texts(store.encoder, texts, store.cache)], max_cost, at_most=second)
    echo = (lambda message: None) if quiet else (lambda message: click.echo(message, err=True))
    report = mine(rows, candidates, stores[0], output, config=config,
                  checker=stores[1] if check_model else None, output_format=output_format,
                  with_scores=with_scores, source=str(data),
                  corpus_name=str(corpus) if corpus else f"{data} (all its passages)", progress=echo)
    report.skipped_rows = source.skipped
    report_path = report_path or output.with_suffix(".report.json")
    report_path.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if report_format == "json":
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        _print_report(report)
    click.echo(f"wrote {output} and {report_path}", err=True)


def _print_report(report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"mined {report.rows:,} rows against {report.corpus_size:,} candidate passages "
                  f"with {', '.join(report.models)}")
    table = Table(title="candidates in the rank range", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("candidates", f"{report.candidates:,}")
    table.add_row("excluded: same text as a positive or the query", f"{report.excluded_same_text:,}")
    table.add_row("excluded: a positive of the same query in another row", f"{report.excluded_known_positive:,}")
    for reason, count in report.dropped.items():
        if count or reason in _active(report):
            table.add_row(f"dropped as likely false negative: {reason.replace('_', ' ')}", f"{count:,}")
    table.add_row("kept as candidates", f"{report.kept_candidates:,}")
    table.add_row("negatives written", f"{report.negatives_written:,}")
    table.add_row(f"rows with fewer than {report.config['num_negatives']} negatives", f"{report.rows_short:,}")
    table.add_row("rows with no negative", f"{report.rows_without_negative:,}")
    console.print(table)
    for name, stats in report.embedding.items():
        console.print(f"{name}: {stats['texts_encoded']:,} texts embedded, {stats['cache_hits']:,} from the cache")
    console.print(_positive_ranks(report), highlight=False)
    if report.examples:
        console.print("likely false negatives dropped (examples, one per row):")
        for e in report.examples[:8]:
            rank = f"rank {e['rank']}, " if e["rank"] else ""
            console.print(f"  {e['reason']}  {e['row']}  {rank}score {e['score']:.3f} vs positive "
                          f"{e['positive_score']:.3f}", highlight=False, markup=False, soft_wrap=True)
            for what in ("query", "positive", "candidate"):
                console.print(f"    {what + ':':<10} {_cut(e[what])}", highlight=False, markup=False,
                              soft_wrap=True)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)


def _positive_ranks(report) -> str:
    ranks = report.positive_rank
    line = (f"the row's positive ranked first in {ranks['1']:,} rows, 2-10 in {ranks['2-10']:,}, "
            f"11+ in {ranks['11+']:,}, below rank {report.config['range_max']} in {ranks['below_range']:,}")
    if ranks["not_in_corpus"]:
        line += f"; not a candidate in {ranks['not_in_corpus']:,}"
    return line


def _active(report) -> set[str]:
    config = report.config
    active = {name for name in ("absolute_margin", "relative_margin", "max_score", "min_score")
              if config.get(name) is not None}
    return active | ({"second_model"} if len(report.models) > 1 else set())


def _cut(text: str, cells: int = 64) -> str:
    """`text` cut to `cells` terminal columns (a CJK character takes two), so an example stays on one line."""
    from rich.cells import cell_len, set_cell_size

    return text if cell_len(text) <= cells else set_cell_size(text, cells - 1) + "…"
