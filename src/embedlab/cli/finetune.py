"""`embedlab split` and `embedlab finetune`: leakage-safe split, then training with a checkpoint curve."""

from __future__ import annotations

import json
from pathlib import Path

import click

_PATH = click.Path(exists=True, path_type=Path)


@click.command("split")
@click.argument("data", type=_PATH)
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for train.jsonl, test.jsonl (dev.jsonl) and manifest.json.")
@click.option("--test", "test_fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.2, show_default=True, help="Fraction of rows held out for testing.")
@click.option("--dev", "dev_fraction", type=click.FloatRange(0, 1, max_open=True), default=0.0,
              show_default=True, help="Fraction of rows for a dev split (0 = none).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--drop-shared", is_flag=True,
              help="Remove from train every passage that also occurs in a held-out row.")
@click.option("--split", default=None, help="Split to read when DATA has several.")
@click.option("--overwrite", is_flag=True, help="Replace existing train/test/dev files and manifest in OUT.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def split_command(data, out_dir, test_fraction, dev_fraction, seed, drop_shared, split, overwrite, fmt) -> None:
    """Split reranking/training rows into train/test(/dev) by query, without leakage.

    Rows whose queries are equal after normalisation (Unicode NFKC, case, spaces, punctuation) stay in
    one split. Passages shared between train and the held-out rows are counted and shown, and with
    --drop-shared removed from train. An output that is DATA is refused; existing ones are replaced
    only with --overwrite.

    \b
    Example:
      embedlab split t2_reranking.jsonl -o splits/ --test 0.2 --seed 42 --drop-shared
    """
    from embedlab.data.split import split_rows

    report = split_rows(data, out_dir, test=test_fraction, dev=dev_fraction, seed=seed,
                        drop_shared=drop_shared, split=split, overwrite=overwrite)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
        return
    for name, rows in report.rows.items():
        click.echo(f"{name:>5}: {rows:,} rows, {report.queries[name]:,} distinct queries -> "
                   f"{out_dir / report.files[name]['path']}")
    click.echo(f"query groups kept together (equal or normalised-equal queries): "
               f"{report.query_groups_merged:,}")
    click.echo(f"passages shared between train and held-out rows: {report.shared_passages:,} "
               f"({report.shared_positives:,} are held-out positives), in "
               f"{report.train_rows_touching_shared:,} train rows")
    for example in report.examples[:3]:
        click.echo(f"  e.g. {example['train']}: held-out {example['held_out_role']}: "
                   f"{example['passage'][:70]!r}")
    if report.dropped_from_train:
        d = report.dropped_from_train
        click.echo(f"dropped from train: {d['passages']:,} shared passages; "
                   f"{d['rows_without_positive']:,} rows left without a positive were removed")
    elif report.shared_passages:
        click.echo("  (use --drop-shared to remove them from train)")
    click.echo(f"manifest: {out_dir / 'manifest.json'}", err=True)


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
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Run folder: checkpoints, curve.json, curve.png, best/, summary.json.")
@click.option("--epochs", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True)
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
@click.option("--temperature", type=click.FloatRange(0, min_open=True), default=0.02, show_default=True)
@click.option("--lr", "learning_rate", type=float, default=1e-5, show_default=True)
@click.option("--warmup-ratio", type=click.FloatRange(0, 1), default=0.1, show_default=True)
@click.option("--weight-decay", type=float, default=0.01, show_default=True)
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
@click.option("--precision", type=click.Choice(["auto", "fp32", "fp16", "bf16"]), default="auto",
              show_default=True, help="auto = bf16 (or fp16) on a CUDA GPU, fp32 on CPU.")
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
    run = finetune(model, train_path, out_dir, test=test_path, retrieval=retrieval_test,
                   guard=guard, guard_retrieval=guard_retrieval, config=config, progress=not quiet,
                   resume=not no_resume, verbose=verbose, announce=lambda text: click.echo(text, err=True))
    if fmt == "json":
        click.echo(json.dumps(run.summary, ensure_ascii=False, indent=1))
        return
    click.echo(summary_text(run.summary, out_dir))


def summary_text(summary: dict, out_dir: Path) -> str:
    """The run's honest summary in a few lines."""
    from embedlab.finetune.memory import gib

    d = summary["delta"]
    sign = "significant" if summary["significant"] else "NOT significant"
    lines = [
        f"{summary['metric']}: base {summary['base']:.4f} -> best {summary['best']:.4f} at step "
        f"{summary['best_step']} (last: {summary['last']:.4f} at step {summary['last_step']})",
        (f"delta {d['mean']:+.4f}, 95% bootstrap CI [{d['low']:+.4f}, {d['high']:+.4f}] over queries: "
         f"{sign}"),
    ]
    if summary["plateau_step"] is not None and summary["plateau_step"] < summary["best_step"]:
        lines.append(f"90% of the gain was reached by step {summary['plateau_step']}")
    if summary["degrades_after_best"]:
        drop = summary["last_vs_best"]
        lines.append(f"later checkpoints degrade: last vs best {drop['mean']:+.4f} "
                     f"[{drop['low']:+.4f}, {drop['high']:+.4f}]")
    for label, guard in summary["guards"].items():
        lines.append(f"guard {label}: {guard['base']:.4f} -> {guard['best']:.4f} at the best step")
    leaks = {k: v for k, v in summary["leakage"].items() if v}
    if leaks:
        lines.append("warning: held-out queries also in train (scores inflated): "
                     + ", ".join(f"{k} {v}" for k, v in leaks.items()) + "; use `embedlab split`")
    lines += [f"warning: {w}" for w in summary["warnings"]]
    memory = summary["memory"]
    lines.append(f"loss: {summary['loss']}; memory: planned ~{gib(memory['chosen']['total'])} GiB "
                 f"(estimate), measured peak {gib(memory['measured_peak_bytes'])} GiB "
                 f"({memory['measured']})")
    if "max_length" in summary:  # not in summaries of earlier versions
        trained = summary["train_max_length"]
        lines.append(f"max length: trained at {trained['query']} (queries) / {trained['passage']} (passages) "
                     f"tokens; checkpoints, best/ and the curve at {summary['max_length']}")
    best = "the base model (no checkpoint beat it)" if summary["best_step"] == 0 else \
        f"checkpoint-{summary['best_step']}"
    lines.append(f"best model: {out_dir / 'best'} = {best}; curve: {out_dir / 'curve.png'}")
    return "\n".join(lines)
