"""`embedlab finetune`: training with a checkpoint curve, every checkpoint scored as `eval` scores it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from embedlab.cli.options import FINITE, Finite
from embedlab.cli.renamed import renamed

_PATH = click.Path(exists=True, path_type=Path)
_OUT = click.Path(path_type=Path)
_DTYPES = ["auto", "fp32", "fp16", "bf16"]


@click.command("finetune")
@click.option("-m", "--model", required=True, help="Base model: local directory or Hugging Face id.")
@click.option("--train", "train_path", type=_PATH, required=True,
              help="Training rows: JSONL {query, positive, negative} or FlagEmbedding {query, pos, neg, prompt}.")
@click.option("--test", "test_path", type=_PATH, default=None,
              help="Held-out reranking rows scored at every checkpoint (e.g. test.jsonl of `embedlab split`).")
@click.option("--retrieval-test", type=_PATH, default=None,
              help="Held-out retrieval folder scored at every checkpoint as well.")
@click.option("--guard", multiple=True, type=_PATH,
              help="General-domain reranking data to watch for forgetting (repeatable).")
@click.option("--guard-retrieval", multiple=True, type=_PATH,
              help="General-domain retrieval folder to watch for forgetting (repeatable).")
@click.option("-o", "--output", "out_dir", type=_OUT, default=None,
              help="Run folder: checkpoints, curve.json, curve.png, best/, summary.json. Required.")
@renamed("--out", "--output", "out_dir", type=_OUT, required=True)
@click.option("--epochs", type=Finite(0, min_open=True), default=1.0, show_default=True)
@click.option("--max-steps", type=click.IntRange(1), default=None, help="Stop after N steps (overrides --epochs).")
@click.option("--eval-every", type=click.IntRange(1), default=None,
              help="Checkpoint and evaluate every N steps (and at each epoch end). Default: each epoch end.")
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True,
              help="Queries per step: the in-batch negative pool.")
@click.option("--mini-batch-size", default="auto", show_default=True,
              help="GradCache chunk (CachedMultipleNegativesRankingLoss): memory stays flat in --batch-size. "
                   "'auto' = only if the plain loss does not fit; 0 = never.")
@click.option("--group-size", type=click.IntRange(1), default=8, show_default=True,
              help="1 positive + N-1 hard negatives per query.")
@click.option("--temperature", type=Finite(0, min_open=True), default=0.02, show_default=True)
@click.option("--lr", "learning_rate", type=FINITE, default=1e-5, show_default=True)
@click.option("--warmup-ratio", type=Finite(0, 1), default=0.1, show_default=True)
@click.option("--weight-decay", type=FINITE, default=0.01, show_default=True)
@click.option("--query-max-length", type=click.IntRange(2), default=32, show_default=True,
              help="Training length of queries (tokens).")
@click.option("--passage-max-length", type=click.IntRange(2), default=128, show_default=True,
              help="Training length of passages (tokens); checkpoints keep --max-length.")
@click.option("--max-length", type=click.IntRange(2), default=None,
              help="Max length saved into checkpoints and best/, and used to score the curve "
                   "[default: the base model's].")
@click.option("--query-instruction", default=None,
              help="Prefix for queries in training and evaluation (default: the model's own prompt).")
@click.option("--document-instruction", default=None, help="Prefix for passages.")
@click.option("--metric", default=None,
              help="Curve metric, e.g. v1.map, v2.ndcg@10, test-retrieval/ndcg@10 [default: the main score].")
@click.option("--early-stopping", type=click.IntRange(1), default=None, metavar="N",
              help="Stop after N evaluations without improvement.")
@click.option("--keep-checkpoints", default="1", show_default=True, metavar="N|all",
              help="Checkpoints kept on disk: the last N (a resume needs the last) plus the best; "
                   "'all' keeps every one. The curve keeps every point.")
@click.option("--dtype", type=click.Choice(_DTYPES), default="auto", show_default=True,
              help="Training dtype: auto = bf16 (or fp16) on a CUDA GPU, fp32 on CPU.")
@renamed("--precision", "--dtype", "dtype", type=click.Choice(_DTYPES))
@click.option("--gradient-checkpointing", is_flag=True, help="Recompute activations: less memory, ~30% slower.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when present).")
@click.option("--no-resume", is_flag=True,
              help="Start over even if OUT has checkpoints (they are deleted), e.g. with another configuration.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress line.")
def finetune_command(model, train_path, test_path, retrieval_test, guard, guard_retrieval, out_dir,
                     mini_batch_size, keep_checkpoints, no_resume, fmt, quiet, **options) -> None:
    """Fine-tune a model and score EVERY checkpoint on held-out data: a curve, the best checkpoint.

    Contrastive training (InfoNCE, in-batch + hard negatives, FlagEmbedding's defaults) on the
    sentence-transformers trainer. Step 0 (the base model) and every checkpoint are scored with the
    code of `embedlab eval`, at the max length the checkpoints are saved with (the base model's unless
    --max-length; training uses the shorter --query/--passage-max-length); collapse indicators are
    recorded beside the scores. A killed run resumes from its last checkpoint when started again with
    the same OUT and configuration (--device, --mini-batch-size, --gradient-checkpointing,
    --keep-checkpoints and -q may differ); a finished one is reported as it is.

    \b
    Example:
      embedlab split t2.jsonl -o splits/ --drop-shared
      embedlab finetune -m BAAI/bge-small-zh-v1.5 --train splits/train.jsonl --test splits/test.jsonl \\
          -o runs/bge-t2 --eval-every 100 --batch-size 256 --mini-batch-size 32 \\
          --query-instruction "为这个句子生成表示以用于检索相关文章："
    """
    from embedlab.errors import require_all

    # every package of the finetune extra at once, before `embedlab.finetune` imports the first of them
    require_all([(module, "embedlab finetune") for module in ("sentence_transformers", "accelerate", "datasets",
                                                              "matplotlib")], extra="finetune")
    from embedlab.finetune import FinetuneConfig, finetune

    if mini_batch_size not in ("auto",):
        if not str(mini_batch_size).isdigit():
            raise click.BadParameter("a number or 'auto'", param_hint="--mini-batch-size")
        mini_batch_size = int(mini_batch_size) or None
    if keep_checkpoints != "all" and not (keep_checkpoints.isdigit() and int(keep_checkpoints) > 0):
        raise click.BadParameter("a number of checkpoints (1 or more) or 'all'", param_hint="--keep-checkpoints")
    config = FinetuneConfig(mini_batch_size=mini_batch_size, **options,
                            keep_checkpoints=None if keep_checkpoints == "all" else int(keep_checkpoints))
    verbose = bool(click.get_current_context().find_root().params.get("verbose"))  # `embedlab -v`
    from embedlab.run.options import RunOptions

    run = finetune(model, train_path, out_dir, test=test_path, retrieval=retrieval_test,
                   guard=guard, guard_retrieval=guard_retrieval, config=config, resume=not no_resume, verbose=verbose,
                   run=RunOptions(progress=not quiet, announce=lambda text: click.echo(text, err=True)))
    if fmt == "json":
        click.echo(json.dumps(run.summary, ensure_ascii=False, indent=1))
        return
    from embedlab.report.finetune import summary_text

    click.echo(summary_text(run.summary, out_dir))

