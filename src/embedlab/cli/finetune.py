"""`embedlab finetune`: training with a checkpoint curve, every checkpoint scored as `eval` scores it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from embedlab.cli.options import CACHE, COST, FINITE, Finite, options
from embedlab.cli.renamed import renamed

_PATH = click.Path(exists=True, path_type=Path)
_OUT = click.Path(path_type=Path)
_DTYPES = ["auto", "fp32", "fp16", "bf16"]
# options that only a distillation run reads
_TEACHER_ONLY = {"distill_loss": "margin-mse", "relative_margin": 0.05, "teacher_base_url": None,
                 "teacher_api_key_env": None, "cache_path": None, "no_cache": False, "max_cost": None,
                 "price_per_mtok": None}
_EMBEDDING_ONLY = ("lora", "keep_adapter", "matryoshka", "teacher", "nproc", "retrieval_test", "guard_retrieval")


@click.command("finetune")
@click.option("-m", "--model", required=True, help="Base model: local directory or Hugging Face id.")
@click.option("--train", "train_path", type=_PATH, default=None,
              help="Training rows: JSONL {query, positive, negative} or FlagEmbedding {query, pos, neg, prompt}. Required.")
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
@renamed("--out", "--output", "out_dir", type=_OUT)
@click.option("--epochs", type=Finite(0, min_open=True), default=1.0, show_default=True)
@click.option("--max-steps", type=click.IntRange(1), default=None, help="Stop after N steps (overrides --epochs).")
@click.option("--eval-every", type=click.IntRange(1), default=None,
              help="Checkpoint and evaluate every N steps (and at each epoch end). Default: each epoch end.")
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True,
              help="Queries per step (over all --nproc processes): the in-batch negative pool.")
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
@click.option("--lora", is_flag=False, flag_value="", default=None, metavar="[r=16,alpha=32,dropout=0.05,targets=auto]",
              help="Train a LoRA adapter (peft) instead of every weight; targets: 'auto' (every linear layer of every "
                   "transformer layer) or names joined with '+' (q_proj+v_proj). best/ is merged: a plain model.")
@click.option("--keep-adapter", is_flag=True, help="With --lora: also keep the best adapter alone in adapter/.")
@click.option("--matryoshka", default=None, metavar="D1,D2,...",
              help="Train with MatryoshkaLoss at these widths (e.g. 384,256,128,64); every checkpoint is scored at "
                   "each, and the summary says which are tied with full width.")
@click.option("--teacher", default=None, metavar="MODEL",
              help="Distil a reranker: ce:PATH (a cross-encoder, e.g. best/ of --cross-encoder), rerank:<model>, "
                   "qianfan-rerank:<model>. Its scores of each row's pairs are computed once (cached, resumable).")
@click.option("--distill-loss", type=click.Choice(["margin-mse", "kl"]), default="margin-mse", show_default=True,
              help="With --teacher: MarginMSE over (positive - negative) margins, or KL over each query's group.")
@click.option("--relative-margin", type=Finite(0), default=0.05, show_default=True,
              help="With --teacher: a negative scored above positive - margin x |positive| is dropped as a "
                   "likely false negative (the rule of `embedlab mine`).")
@click.option("--teacher-base-url", default=None, help="With --teacher rerank:<model>: its endpoint.")
@click.option("--teacher-api-key-env", default=None,
              help="With an API --teacher: the environment variable holding its key [default: OPENAI_API_KEY].")
@options(CACHE, COST)
@click.option("--nproc", type=click.IntRange(1), default=None, metavar="N",
              help="Data-parallel training in N processes (one per GPU on CUDA; gloo on CPU cores). torchrun / "
                   "accelerate launch work too.")
@click.option("--cross-encoder", is_flag=True,
              help="Train -m as a reranker (cross-encoder, binary cross-entropy) with the same curve; best/ works "
                   "as `eval --reranker` and as a --teacher.")
@click.option("--plan", "plan_only", is_flag=True,
              help="Print the memory plan (full / LoRA / GradCache / checkpointing) and exit; reads the model's "
                   "config only.")
@click.option("--gpu-memory", default=None, metavar="SIZE",
              help="With --plan: plan for a CUDA GPU of this size (24GB, 80GiB), 16-bit, flash attention.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when present).")
@click.option("--no-resume", is_flag=True,
              help="Start over even if OUT has checkpoints (they are deleted), e.g. with another configuration.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress line.")
def finetune_command(model, train_path, test_path, retrieval_test, guard, guard_retrieval, out_dir, no_resume, fmt,
                     quiet, plan_only, gpu_memory, cross_encoder, **options) -> None:
    """Fine-tune a model and score EVERY checkpoint on held-out data: a curve, the best checkpoint.

    Contrastive training (InfoNCE, in-batch + hard negatives, FlagEmbedding's defaults) on the
    sentence-transformers trainer, of every weight or of a LoRA adapter (--lora), optionally Matryoshka
    (--matryoshka), from a reranker's scores (--teacher), in several processes (--nproc); or a reranker
    (--cross-encoder). Step 0 (the base model) and every checkpoint are scored with the code of
    `embedlab eval`, at the max length the checkpoints are saved with (the base model's unless
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
      embedlab finetune -m Qwen/Qwen3-Embedding-8B --lora --plan --gpu-memory 24GB
    """
    ctx = click.get_current_context()
    config = _settings(options, cross_encoder, {"retrieval_test": retrieval_test, "guard_retrieval": guard_retrieval})
    if gpu_memory is not None and not plan_only:
        raise click.UsageError("--gpu-memory needs --plan (it plans for a GPU; training runs on the GPUs there are)")
    if plan_only:
        _plan(model, config, gpu_memory, fmt)
        return
    for name, value in (("train_path", train_path), ("out_dir", out_dir)):
        if value is None:
            raise click.MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == name))
    from embedlab.errors import require_all

    # every package of the finetune extra at once, before `embedlab.finetune` imports the first of them
    require_all([(module, "embedlab finetune") for module in ("sentence_transformers", "accelerate", "datasets",
                                                              "matplotlib")], extra="finetune")
    run = _run_options(options, quiet)
    verbose = bool(ctx.find_root().params.get("verbose"))  # `embedlab -v`
    if cross_encoder:
        from embedlab.finetune.reranker import finetune_cross_encoder

        result = finetune_cross_encoder(model, train_path, out_dir, test=test_path, config=config, run=run,
                                        resume=not no_resume, verbose=verbose)
    else:
        from embedlab.finetune import finetune

        result = finetune(model, train_path, out_dir, test=test_path, retrieval=retrieval_test, guard=guard,
                          guard_retrieval=guard_retrieval, config=config, resume=not no_resume, verbose=verbose,
                          run=run)
    if not result.summary:  # a process of a torchrun / accelerate launch run other than rank 0: it says nothing
        return
    if fmt == "json":
        click.echo(json.dumps(result.summary, ensure_ascii=False, indent=1))
        return
    from embedlab.report.finetune import summary_text

    click.echo(summary_text(result.summary, out_dir))


def _plan(model: str, config, gpu_memory: str | None, fmt: str) -> None:
    from embedlab.finetune.planning import parse_memory, plan_only

    lines: list[str] = []
    planned = plan_only(model, config, gpu_memory=parse_memory(gpu_memory) if gpu_memory else None,
                        announce=lines.append)
    if fmt == "json":
        click.echo(json.dumps({k: v for k, v in planned.items() if k != "text"}, indent=1))
    else:
        click.echo("\n".join(lines))


def _settings(opts: dict, cross_encoder: bool, given: dict):
    """FinetuneConfig from the options (LoRA and Matryoshka parsed; settings the run would not read refused)."""
    from embedlab.finetune import FinetuneConfig
    from embedlab.finetune.lora import parse_lora
    from embedlab.finetune.matryoshka import parse_matryoshka

    if not opts["teacher"]:
        unread = [name for name, default in _TEACHER_ONLY.items() if opts.get(name) != default]
        if unread:
            raise click.UsageError(f"--{unread[0].replace('_', '-').replace('cache-path', 'cache')} needs --teacher "
                                   "(it sets how a teacher's scores are fetched and used)")
    if cross_encoder:
        chosen = {**opts, **given}
        embedding = [name for name in _EMBEDDING_ONLY if chosen.get(name) not in (None, False, ())]
        if embedding:
            raise click.UsageError(f"--{embedding[0].replace('_', '-')} trains an embedding model; --cross-encoder "
                                   "trains a reranker without it")
    mini = opts.pop("mini_batch_size")
    if mini != "auto":
        if not str(mini).isdigit():
            raise click.BadParameter("a number or 'auto'", param_hint="--mini-batch-size")
        mini = int(mini) or None
    keep = opts.pop("keep_checkpoints")
    if keep != "all" and not (keep.isdigit() and int(keep) > 0):
        raise click.BadParameter("a number of checkpoints (1 or more) or 'all'", param_hint="--keep-checkpoints")
    lora, dims = opts.pop("lora"), opts.pop("matryoshka")
    fields = {name: opts.pop(name) for name in list(opts) if name in FinetuneConfig.__dataclass_fields__}
    return FinetuneConfig(mini_batch_size=mini, keep_checkpoints=None if keep == "all" else int(keep),
                          lora=parse_lora(lora) if lora is not None else None,
                          matryoshka=parse_matryoshka(dims) if dims else None, **fields)


def _run_options(opts: dict, quiet: bool):
    """RunOptions: progress and notes on stderr; a teacher's cache, cost limit, price and endpoint."""
    from embedlab.models.base import ModelOptions
    from embedlab.run.options import RunOptions

    cache = False if opts.pop("no_cache") else opts.pop("cache_path")
    base_url, key_env = opts.pop("teacher_base_url"), opts.pop("teacher_api_key_env")
    teacher = ModelOptions(base_url=base_url, **({"api_key_env": key_env} if key_env else {}))
    return RunOptions(progress=not quiet, announce=lambda text: click.echo(text, err=True), cache=cache,
                      max_cost=opts.pop("max_cost"), price_per_mtok=opts.pop("price_per_mtok"),
                      reranker_options=teacher)
