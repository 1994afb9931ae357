"""`embedlab sweep`: what will it cost to deploy? Dimensions, precision, index and query prompt of one model,
from one encoding, and the backends that encode it (`--backend`: each encodes again) (`deploy.deploy_sweep`); the
cost table on stdout, results JSON and report in the output folder.
(`results/sweep.py` is the hybrid's weight sweep; this command's code is in `deploy/`.)"""

from __future__ import annotations

from pathlib import Path

import click

from embedlab.cli.options import (
    API,
    CACHE,
    COST,
    DATA,
    MODELS,
    OVERWRITE,
    QUIET,
    SAMPLE,
    Command,
    format_option,
    option,
    options,
    quiet_libraries,
)
from embedlab.search.names import INDEXES

# the model settings of ENCODING, with --query-instruction repeatable: each value is a prompt variant to try
_ENCODING = [
    option("Model", "--query-instruction", multiple=True, metavar="TEXT",
           help="A query instruction; with --prompt-variants repeat it to try several besides the model's configured "
                "prompt and none."),
    option("Model", "--document-instruction", default=None, help="Prefix for documents only."),
    option("Model", "--batch-size", default=32, show_default=True, type=click.IntRange(1)),
    option("Model", "--max-length", default=None, type=click.IntRange(1), help="Truncate inputs to N tokens."),
    option("Model", "--device", default=None, help="cpu, cuda, cuda:1, mps (default: CUDA when present)."),
]
_VARIANTS = [
    option("Variants", "--dims", default=None, metavar="D[,D...]",
           help="Dimensions to truncate to (Matryoshka), then re-normalise [default: the model's full width]."),
    option("Variants", "--precision", "precisions", default="float32,int8,binary", show_default=True,
           metavar="P[,P...]", help="float32, float16, int8, binary (sentence-transformers' quantize_embeddings, "
           "calibrated on the documents); int8+rescore, binary+rescore: the top --rescore-depth rescored with the "
           "float query."),
    option("Variants", "--index", "indexes", default="exact", show_default=True, metavar="I[,I...]",
           help=f"{', '.join(INDEXES)} (as eval's --index); approximate ones on retrieval only, with their neighbour "
                "recall@10 against the exact search."),
    option("Variants", "--prompt-variants", is_flag=True, help="Also encode the queries without a prompt and with "
           "each --query-instruction (documents are reused): does the configured prompt help?"),
    option("Variants", "--rescore-depth", type=click.IntRange(1), default=40, show_default=True,
           help="Candidates of an int8 / binary search scored again with the float query (+rescore)."),
    option("Variants", "--ann-depth", type=click.IntRange(1), default=100, show_default=True,
           help="Results an approximate index is asked for, as a deployment asks (exact: eval's depth)."),
    option("Variants", "--hnsw-m", type=click.IntRange(2), default=32, show_default=True,
           help="HNSW neighbours per node."),
    option("Variants", "--ef-search", type=click.IntRange(1), default=64, show_default=True,
           help="HNSW candidates kept per search."),
    option("Variants", "--nlist", type=click.IntRange(1), default=None, help="IVF lists [default: sqrt(documents)]."),
    option("Variants", "--nprobe", type=click.IntRange(1), default=8, show_default=True,
           help="IVF lists searched per query."),
    option("Variants", "--backend", "backends", default=None, metavar="B[,B...]",
           help="Encoders to compare, comma-separated: torch, onnx, onnx-int8, openvino, openvino-int8, static (a "
                "model2vec distilled from the model; exports and distillations are made once and cached). Each encodes "
                "the texts again, a row at its full width, float32, exact, against float32 torch (the baseline), with "
                "its texts/s and encode ms per query measured; they run on the CPU (torch too unless --device is given). "
                "Local sentence-transformers models only."),
]


@click.command("sweep", cls=Command)
@options(MODELS, DATA, SAMPLE, _ENCODING, API, CACHE, _VARIANTS, COST)
@format_option("table", "json")
@option("Output", "-o", "--output", type=click.Path(path_type=Path), default=Path("sweep"), show_default=True,
        help="Folder for results.json and report.html (both regenerated; another file of those names only with "
             "--overwrite).")
@options([OVERWRITE, QUIET])
def sweep_command(dims, precisions, indexes, prompt_variants, rescore_depth, ann_depth, hnsw_m, ef_search, nlist,
                  nprobe, backends, fmt, output, overwrite, quiet, max_cost, price_per_mtok, **opts) -> None:
    """What will it cost to deploy? Scores, bytes and latency of every dimensions x precision x index variant
    (and query prompt) of one model, from one encoding, against the full-precision exact baseline; with --backend,
    also each backend's own encoding (ONNX, OpenVINO, int8, a static model), with its encode speed.

    \b
    Examples:
      embedlab sweep --demo --dims 384,256,128 --precision float32,int8,binary+rescore --index exact,hnsw
      embedlab sweep --demo --precision float32,int8 --backend torch,onnx-int8,openvino-int8,static
      embedlab sweep -m BAAI/bge-m3 --retrieval data/my_retrieval --dims 1024,512,256 \\
          --precision float32,int8,binary --index exact,hnsw,ivf --prompt-variants -o sweep/
    """
    from embedlab.deploy import DeployOptions, deploy_sweep, parse_dims, parse_indexes, parse_precisions
    from embedlab.deploy.encoders import check_sweepable, encoder_requires, parse_encoders
    from embedlab.deploy.scorer import DeployKnobs
    from embedlab.search.ann import AnnParams

    quiet_libraries(quiet)
    instructions = opts.pop("query_instruction")
    if len(instructions) > 1 and not prompt_variants:
        raise click.UsageError("several --query-instruction values are prompt variants: add --prompt-variants")
    opts["query_instruction"] = None if prompt_variants or not instructions else instructions[0]
    encoders = parse_encoders(backends) if backends is not None else ()
    for spec in opts["models"]:  # before any data is read
        check_sweepable(spec, encoders)
    deploy = DeployOptions(parse_dims(dims) if dims else (), parse_precisions(precisions), parse_indexes(indexes),
                           prompt_variants, tuple(instructions),
                           DeployKnobs(rescore_depth, ann_depth, AnnParams(hnsw_m, ef_search, nlist, nprobe)), encoders)
    from embedlab.cli.setup import run_setup
    from embedlab.search.names import INDEX_REQUIRES

    requires = tuple((INDEX_REQUIRES[index], f"--index {index}") for index in deploy.indexes if index in INDEX_REQUIRES) \
        + tuple(encoder_requires(encoders))
    models, tasks, options, run = run_setup(opts, output / "results.json", outputs=(output / "report.html",),
                                            requires=requires, overwrite=overwrite, progress=not quiet, max_cost=max_cost,
                                            price_per_mtok=price_per_mtok,
                                            announce=lambda line: click.echo(line, err=True))
    if len(models) != 1:
        raise click.UsageError("sweep takes one --model (the variants are of that model)")
    results = deploy_sweep(models[0], tasks, model=options, run=run, deploy=deploy)
    _write(results, output, fmt)


def _write(results, output: Path, fmt: str) -> None:
    """results.json and report.html in the folder; on stdout the tables (or JSON: every column, each task's
    recommendation and the overall one), ending with the recommendations; warnings on stderr."""
    from embedlab.report.deploy import recommendation_text
    from embedlab.results.deploy import deploy_summaries, overall

    summaries = deploy_summaries(results)
    output.mkdir(parents=True, exist_ok=True)
    results.to_json(output / "results.json")
    if fmt == "json":
        import json

        click.echo(json.dumps({"tasks": [s.as_dict() for s in summaries], "overall": overall(summaries)},
                              ensure_ascii=False, indent=1))
    else:
        from embedlab.report.deploy import rich_deploy
        from embedlab.report.table import stdout

        for summary in summaries:
            for part in rich_deploy(summary):
                stdout().print(part)
        click.echo(recommendation_text(summaries))
    for note in dict.fromkeys(n for s in summaries for n in s.notes):
        click.echo(f"warning: {note}", err=True)
    from embedlab.cli.setup import write_page
    from embedlab.report.deploy import deploy_page

    write_page(output, lambda: deploy_page(summaries))
