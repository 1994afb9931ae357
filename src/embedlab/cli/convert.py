"""`embedlab convert`: rows from one layout and container to another, losslessly where the formats allow."""

from __future__ import annotations

import json
from pathlib import Path

import click

from embedlab.cli.renamed import OldArgument, RenamedChoice, note_renamed, renamed


@click.command("convert")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.argument("target", cls=OldArgument, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Where to write: .jsonl, .parquet, or a folder. Required.")
@click.option("--to", "layout", type=click.Choice(["reranking", "flag", "triplets", "retrieval"]), default=None,
              help="Output layout: reranking {query, positive, negative} (C-MTEB), flag {query, pos, neg} "
                   "(FlagEmbedding), triplets {anchor, positive, negative} (sentence-transformers), retrieval "
                   "(rows -> a BEIR folder: corpus = every passage, qrels = positives 1, negatives 0). "
                   "[default: the source's layout; reranking for a retrieval folder]")
@click.option("--split", default=None,
              help="Split to read when SOURCE has several [default: test, then dev, validation; "
                   "the summary says which].")
@click.option("-n", "--num-negatives", "negatives", type=click.IntRange(0), default=0, show_default=True, metavar="N",
              help="Retrieval folder only: add N random corpus passages per query as negatives "
                   "(never one judged for that query).")
@renamed("--negatives", "--num-negatives", "negatives", type=click.IntRange(0))
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --num-negatives.")
@click.option("--drop-ids", is_flag=True, help="Leave out _id / id fields (query ids of a retrieval folder).")
@click.option("--allow-lossy", is_flag=True,
              help="Drop fields the output layout cannot hold (e.g. _id, prompt, scores in triplets) "
                   "instead of refusing; they are listed in the summary.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--format", "fmt", type=RenamedChoice(["table", "json"], renamed={"text": "table"}), default="table",
              show_default=True, help="json: also print the report as JSON on stdout (the summary is on stderr).")
def convert_command(source, target, output, layout, split, negatives, seed, drop_ids, allow_lossy, overwrite,
                    fmt) -> None:
    """Convert rows between layouts and containers: SOURCE -> OUTPUT.

    \b
    SOURCE: a JSONL or parquet file, a Hugging Face dataset folder (save_to_disk), or a retrieval
    folder (corpus, queries, qrels) whose judgments become rows: positives are the passages judged
    relevant, negatives those judged 0, plus --num-negatives random ones. For hard (mined) negatives, run
    `embedlab mine ROWS.jsonl --corpus FOLDER -m MODEL -o out.jsonl` on the result.
    OUTPUT (-o): .jsonl, .parquet, or a folder (a Hugging Face dataset, load_from_disk reads it); with
    --to retrieval, a BEIR folder (corpus.jsonl, queries.jsonl, qrels.tsv) that `eval --retrieval` reads.

    Between reranking and flag, only positive/pos and negative/neg are renamed and every other field is
    kept, in every container. Triplets hold only texts: other fields are refused unless --allow-lossy,
    and grouping triplets back into rows (by anchor) keeps every text but not the pairing. A summary of
    what was read, written, renamed, kept, dropped and skipped goes to stderr.

    \b
    Examples:
      embedlab convert t2_reranking.jsonl -o t2_flag.jsonl --to flag
      embedlab convert t2_flag.jsonl -o t2.parquet
      embedlab convert t2.parquet -o t2_dataset/ --to reranking
      embedlab convert my_beir_folder/ -o rows.jsonl --num-negatives 7 --seed 42
      embedlab convert rows.jsonl -o triplets.jsonl --to triplets --allow-lossy
      embedlab convert t2_reranking.jsonl -o t2_pool/ --to retrieval   # then: embedlab eval --retrieval t2_pool/
    """
    from embedlab.data.convert import convert

    if target is not None:
        if output is not None:
            raise click.UsageError("give the output once: -o OUTPUT (a second argument is its old spelling)")
        note_renamed("convert SOURCE TARGET", "convert SOURCE -o TARGET")
        output = target
    if output is None:
        raise click.UsageError("give -o OUTPUT (.jsonl, .parquet or a folder)")
    report = convert(source, output, to=layout, split=split, negatives=negatives, seed=seed,
                     keep_ids=not drop_ids, allow_lossy=allow_lossy, overwrite=overwrite)
    click.echo(report.summary(), err=True)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
