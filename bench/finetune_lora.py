"""LoRA vs a full fine-tune of the bundled MiniLM on a leakage-safe split of xquad_r_zh reranking (CPU): the curves,
the peak memory (planned and measured), the time, and the difference of the best checkpoints with a paired CI.

Both runs: 12 steps of 16 queries (group size 8), scored every 4 steps; full at lr 2e-5 (the README walkthrough's),
LoRA (r=16, alpha=32, every linear layer) at lr 2e-4, the usual 10x for adapters. Each run is `embedlab finetune`
in its own process (bench/_finetune.py).
"""

from __future__ import annotations

import json

from _env import machine
from _finetune import OUT, finetune, gib

from embedlab.demo import default_model
from embedlab.results.curve import Curve
from embedlab.results.stats import paired_bootstrap_ci


def main() -> None:
    model = str(default_model())
    runs = {"full": finetune("full", model, "--lr", "2e-5"),
            "lora": finetune("lora", model, "--lr", "2e-4", "--lora", "r=16,alpha=32,dropout=0.05",
                             "--keep-adapter")}
    print(machine("torch", "sentence-transformers", "transformers", "peft"))
    curves = {name: Curve.load(OUT / name / "curve.json") for name in runs}
    print("| step | full v1.map | LoRA v1.map |")
    print("|---|---|---|")
    for full, lora in zip(curves["full"].points, curves["lora"].points):
        print(f"| {full['step']} | {curves['full'].value(full):.4f} | {curves['lora'].value(lora):.4f} |")
    print("| run | base -> best (step) | trainable parameters | planned (GiB) | measured peak RSS (GiB) | seconds |")
    print("|---|---|---|---|---|---|")
    for name, (summary, seconds) in runs.items():
        memory = summary["memory"]
        trainable = summary.get("lora", {}).get("trainable_parameters", memory["chosen"]["trainable"])
        print(f"| {name} | {summary['base']:.4f} -> {summary['best']:.4f} ({summary['best_step']}) | {trainable:,} "
              f"| {gib(memory['chosen']['total'])} | {gib(memory['measured_peak_bytes'])} | "
              f"{seconds or summary['seconds']:.0f} |")
    best = {name: curve.best()["per_query"][curve.task] for name, curve in curves.items()}
    delta = paired_bootstrap_ci(best["lora"], best["full"])
    print(f"LoRA - full at their best checkpoints: {delta.mean:+.4f}, 95% CI [{delta.low:+.4f}, {delta.high:+.4f}] "
          f"over {len(best['full'])} queries: {'tied' if delta.low <= 0 <= delta.high else 'different'}")
    print(json.dumps(runs["lora"][0]["lora"]["proof"]))


if __name__ == "__main__":
    main()
