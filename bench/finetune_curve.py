"""Fine-tune the bundled MiniLM on a leakage-safe split of xquad_r_zh reranking (CPU), scoring every
checkpoint on the held-out rows and on Cranfield (English, general domain) as a forgetting guard.

Writes the run under bench/out/finetune-curve/ and copies curve.png + curve.json to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from _env import machine, require_data

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--eval-every", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "finetune-curve")
    args = parser.parse_args()
    data = require_data()

    from embedlab.data.split import split_rows
    from embedlab.demo import default_model
    from embedlab.finetune import FinetuneConfig, finetune
    from embedlab.run.options import RunOptions

    shutil.rmtree(args.out, ignore_errors=True)
    split = split_rows(data / "xquad_r_zh" / "reranking" / "test.jsonl", args.out / "split", test=0.2,
                       seed=0)
    print(f"split: {split.rows} rows, shared passages {split.shared_passages} "
          f"({split.shared_positives} held-out positives), in {split.train_rows_touching_shared} train rows")
    config = FinetuneConfig(epochs=args.epochs, batch_size=args.batch_size, eval_every=args.eval_every,
                            learning_rate=args.lr)
    started = time.perf_counter()
    run = finetune(default_model(), args.out / "split" / "train.jsonl", args.out / "run",
                   test=args.out / "split" / "test.jsonl",
                   guard_retrieval=[data / "cranfield_en" / "retrieval"], config=config, run=RunOptions(announce=print))
    seconds = time.perf_counter() - started
    s = run.summary
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    shutil.copy(run.out_dir / "curve.png", results / "finetune_curve.png")
    shutil.copy(run.out_dir / "curve.json", results / "finetune_curve.json")
    print(machine("torch", "sentence-transformers", "transformers"))
    print(f"{s['steps']} steps in {seconds:.0f} s; loss {s['loss']}; examples {s['examples']}")
    print("| step | test v1.map | test v2.ndcg@10 | guard ndcg@10 | mean pairwise cos | eff. rank | warnings |")
    print("|---|---|---|---|---|---|---|")
    for p in run.curve.points:
        print(f"| {p['step']} | {p['scores']['test']['v1.map']:.4f} | {p['scores']['test']['v2.ndcg@10']:.4f} "
              f"| {p['scores']['guard']['ndcg@10']:.4f} | {p['health']['mean_pairwise_cosine']:.3f} "
              f"| {p['health']['effective_rank']:.1f} | {len(p['warnings'])} |")
    print(json.dumps({k: s[k] for k in ("metric", "base", "best", "best_step", "delta", "significant",
                                        "plateau_step", "degrades_after_best", "guards", "warnings")},
                     indent=1))
    print(f"memory: planned {s['memory']['chosen']['total'] / 2**30:.2f} GiB, measured peak "
          f"{s['memory']['measured_peak_bytes'] / 2**30:.2f} GiB (start {s['memory']['measured_start_bytes'] / 2**30:.2f})")


if __name__ == "__main__":
    main()
