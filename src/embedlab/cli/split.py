"""`embedlab split`: reranking / training rows into train / test (/ dev) by query, without leakage."""

from __future__ import annotations

import json
from pathlib import Path

import click

from embedlab.cli.options import Finite
from embedlab.cli.renamed import renamed

_PATH = click.Path(exists=True, path_type=Path)
_OUT = click.Path(path_type=Path)
_TEST_SIZE = Finite(0, 1, min_open=True, max_open=True)
_DEV_SIZE = Finite(0, 1, max_open=True)


@click.command("split")
@click.argument("data", type=_PATH)
@click.option("-o", "--output", "out_dir", type=_OUT, default=None,
              help="Folder for train.jsonl, test.jsonl (dev.jsonl) and manifest.json. Required.")
@renamed("--out", "--output", "out_dir", type=_OUT, required=True)
@click.option("--test-size", "test_fraction", type=_TEST_SIZE, default=0.2, show_default=True,
              help="Fraction of rows held out for testing.")
@renamed("--test", "--test-size", "test_fraction", type=_TEST_SIZE)
@click.option("--dev-size", "dev_fraction", type=_DEV_SIZE, default=0.0, show_default=True,
              help="Fraction of rows for a dev split (0 = none).")
@renamed("--dev", "--dev-size", "dev_fraction", type=_DEV_SIZE)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--drop-shared", is_flag=True,
              help="Remove from train every passage that also occurs in a held-out row.")
@click.option("--split", default=None, help="Split to read when DATA has several.")
@click.option("--overwrite", is_flag=True, help="Replace existing train/test/dev files and manifest in OUTPUT.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def split_command(data, out_dir, test_fraction, dev_fraction, seed, drop_shared, split, overwrite, fmt) -> None:
    """Split reranking/training rows into train/test(/dev) by query, or a retrieval folder (a synthetic set of
    `embedlab synth`) by passage, without leakage.

    Rows whose queries are equal after normalisation (Unicode NFKC, case, spaces, punctuation) stay in
    one split. Passages shared between train and the held-out rows are counted and shown, and with
    --drop-shared removed from train. A retrieval folder's queries that share a relevant passage stay in one
    split: train.jsonl holds training rows, test/ (dev/) retrieval folders of the whole corpus, and no
    passage is a positive of both. An output that is DATA is refused; existing ones are replaced only with
    --overwrite.

    \b
    Example:
      embedlab split t2_reranking.jsonl -o splits/ --test-size 0.2 --seed 42 --drop-shared
    """
    from embedlab.data.retrieval import is_retrieval_folder
    from embedlab.data.split import split_rows
    from embedlab.data.split_retrieval import split_retrieval

    if test_fraction + dev_fraction >= 1:
        raise click.UsageError("--test-size and --dev-size are fractions of the rows: together below 1")
    by_passage = is_retrieval_folder(data)
    if by_passage and drop_shared:
        raise click.UsageError("--drop-shared: a retrieval folder is split by passage, so no passage is shared")
    report = (split_retrieval(data, out_dir, test=test_fraction, dev=dev_fraction, seed=seed, split=split,
                              overwrite=overwrite) if by_passage else
              split_rows(data, out_dir, test=test_fraction, dev=dev_fraction, seed=seed, drop_shared=drop_shared,
                         split=split, overwrite=overwrite))
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
        return
    from embedlab.report.finetune import split_lines

    click.echo("\n".join(split_lines(report, out_dir, by_passage=by_passage)))
    click.echo(f"manifest: {out_dir / 'manifest.json'}", err=True)
