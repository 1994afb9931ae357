"""`embedlab distil`: a static model (model2vec) made from a local sentence-transformers model."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from embedlab.cli.options import QUIET, options, quiet_libraries


@click.command("distil")
@click.argument("model")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The static model folder to write (model2vec's layout); evaluate it with -m static:OUTPUT.")
@click.option("--dims", type=click.IntRange(1), default=256, show_default=True,
              help="Dimensions kept by PCA (at most the model's own).")
@click.option("--device", default=None, help="Where the model encodes the vocabulary: cpu, cuda... [default: cpu].")
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@options([QUIET])
def distil_command(model, output, dims, device, overwrite, fmt, quiet) -> None:
    """Distil MODEL (a local sentence-transformers folder or a cached hub id) into static embeddings.

    model2vec's distillation encodes every token of the model's vocabulary once, reduces the vectors with
    PCA and weights them; the static model then encodes a text by averaging its tokens' vectors: no
    transformer at run time, so hundreds of times faster on a CPU, at a quality cost to measure on your
    data (`embedlab eval -m MODEL -m static:OUTPUT`, then `embedlab compare`).

    \b
    Examples:
      embedlab distil ./my-model -o ./my-model-static
      embedlab eval -m ./my-model -m static:./my-model-static --retrieval data/ -o results/static.json
    """
    quiet_libraries(quiet)
    if quiet or not sys.stderr.isatty():  # model2vec's tqdm bar: one per token batch, redrawn into a log file
        os.environ.setdefault("TQDM_DISABLE", "1")
    from embedlab.models.static import distil_static

    started = time.perf_counter()
    made = distil_static(model, output, dims=dims, overwrite=overwrite, device=device)
    made["seconds"] = round(time.perf_counter() - started, 1)
    if fmt == "json":
        click.echo(json.dumps(made, ensure_ascii=False, indent=1))
        return
    click.echo(f"{made['output']}: {made['tokens']:,} tokens x {made['dimension']} dimensions "
               f"({made['pooling']} pooling), {made['bytes'] / 1e6:.1f} MB, distilled from {made['model']} "
               f"in {made['seconds']:.0f} s; evaluate it with -m static:{made['output']}")
