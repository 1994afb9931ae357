"""Peak training memory of one optimizer step, plain in-batch loss vs GradCache, at batch 16/64/256.

Bundled MiniLM on xquad_r_zh reranking rows (FlagEmbedding defaults: group size 8 = 1 positive + 7
hard negatives, query max 32 / passage max 128 tokens), CPU, fp32. Each configuration runs one step
in its own process; the peak is the process RSS sampled every 20 ms during training (model and
libraries included), next to the planner's estimate for the same configuration. A configuration
whose planner estimate exceeds this machine's free memory is not run; its estimate is printed, labelled.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _env import machine, require_data

CHILD = """
import json, sys
from embedlab.finetune import FinetuneConfig, finetune
from embedlab.demo import default_model
train, test, out, batch, mini = sys.argv[1:6]
config = FinetuneConfig(max_steps=1, eval_every=1, batch_size=int(batch),
                        mini_batch_size=int(mini) or None, eval_batch_size=32)
run = finetune(default_model(), train, out, test=test, config=config)
print(json.dumps(run.summary["memory"]))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--mini-batch", type=int, default=8)
    parser.add_argument("--estimates-only", action="store_true", help="Only the GPU planner table.")
    args = parser.parse_args()
    gpu_estimates()
    if args.estimates_only:
        return
    data = require_data()
    rows = [json.loads(line) for line in
            (data / "xquad_r_zh" / "reranking" / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train, test = tmp / "train.jsonl", tmp / "test.jsonl"
        train.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[:1000]), encoding="utf-8")
        test.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[1000:1040]), encoding="utf-8")
        print(machine("torch", "sentence-transformers"))
        print("| batch | loss | planner estimate (GiB) | measured peak RSS (GiB) | RSS before training (GiB) "
              "| peak - before (GiB) |")
        print("|---|---|---|---|---|---|")
        for batch in args.batches:
            for mini in (args.mini_batch, 0):
                print(row(batch, mini, train, test, tmp), flush=True)


def gpu_estimates() -> None:
    """Planner estimates (not measurements: no GPU here) for BAAI/bge-small-zh-v1.5 in fp16 on a GPU.

    Shape as published for that model (hidden 512, 4 layers, 8 heads, ~24M parameters), typed in
    because the hub is out of reach here.
    """
    from embedlab.finetune.memory import ModelShape, plan

    bge = ModelShape(parameters=24_000_000, hidden=512, layers=4, heads=8, dimension=512)
    print("PLANNER ESTIMATES, not measured: bge-small-zh-v1.5, fp16 activations, group size 8, query 32 tokens")
    print("| batch | passage max | plain (GiB) | GradCache, mini-batch 32 (GiB) | plain + gradient checkpointing (GiB) |")
    print("|---|---|---|---|---|")
    for passage in (128, 512):
        for batch in (16, 64, 256):
            common = {"batch_size": batch, "group_size": 8, "query_length": 32, "passage_length": passage,
                      "dtype_bytes": 2}
            print(f"| {batch} | {passage} | {plan(bge, **common).total / 2**30:.2f} | "
                  f"{plan(bge, mini_batch_size=32, **common).total / 2**30:.2f} | "
                  f"{plan(bge, checkpointing=True, **common).total / 2**30:.2f} |")


def row(batch: int, mini: int, train: Path, test: Path, tmp: Path) -> str:
    from sentence_transformers import SentenceTransformer

    from embedlab.demo import default_model
    from embedlab.finetune.memory import ModelShape, available_memory, plan

    shape = ModelShape.of(SentenceTransformer(default_model(), device="cpu"))
    estimate = plan(shape, batch_size=batch, group_size=8, query_length=32, passage_length=128,
                    mini_batch_size=mini or None, available=available_memory("cpu"))
    name = f"GradCache (mini-batch {mini})" if mini and mini < batch else "plain in-batch"
    gib = lambda n: f"{n / 2**30:.2f}"
    if not estimate.fits:
        return f"| {batch} | {name} | {gib(estimate.total)} | not run: estimate above free memory | | |"
    out = subprocess.run([sys.executable, "-c", CHILD, str(train), str(test), str(tmp / f"run-{batch}-{mini}"),
                          str(batch), str(mini)], capture_output=True, text=True, env={"HF_HUB_OFFLINE": "1",
                          "PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    if out.returncode:
        return f"| {batch} | {name} | {gib(estimate.total)} | failed: {out.stderr.strip().splitlines()[-1][:80]} | | |"
    memory = json.loads(out.stdout.strip().splitlines()[-1])
    peak, start = memory["measured_peak_bytes"], memory["measured_start_bytes"]
    return f"| {batch} | {name} | {gib(estimate.total)} | {gib(peak)} | {gib(start)} | {gib(peak - start)} |"


if __name__ == "__main__":
    main()
