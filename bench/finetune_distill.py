"""Hard labels vs distillation from a reranker, fine-tuning the bundled MiniLM on a split of xquad_r_zh reranking.

The teacher is the bundled MiniLM trained as a cross-encoder on the same train rows (bench/train_reranker.py, i.e.
`embedlab finetune --cross-encoder`): a weak teacher, reported as it is. Student runs: 12 steps of 16 queries at
lr 2e-5 (bench/_finetune.py): hard labels (InfoNCE, shared with bench/finetune_lora.py), MarginMSE and KL on the
teacher's scores. Paired CI of each distilled student's best checkpoint against the hard-label one.
"""

from __future__ import annotations

from _env import machine
from _finetune import OUT, finetune, gib
from train_reranker import train_reranker

from embedlab.demo import default_model
from embedlab.results.curve import Curve
from embedlab.results.stats import paired_bootstrap_ci


def main() -> None:
    model = str(default_model())
    teacher_summary, teacher_seconds = train_reranker(OUT / "reranker")
    teacher = f"ce:{OUT / 'reranker' / 'best'}"
    runs = {"hard labels (InfoNCE)": ("full", finetune("full", model, "--lr", "2e-5")),
            "MarginMSE": ("distill-mse", finetune("distill-mse", model, "--lr", "2e-5", "--teacher", teacher)),
            "KL": ("distill-kl", finetune("distill-kl", model, "--lr", "2e-5", "--teacher", teacher,
                                          "--distill-loss", "kl"))}
    print(machine("torch", "sentence-transformers", "transformers"))
    print(f"teacher (MiniLM cross-encoder, {teacher_summary['steps']} steps, "
          f"{teacher_seconds or teacher_summary['seconds']:.0f} s): test v1.map "
          f"{teacher_summary['base']:.4f} (fresh head) -> {teacher_summary['best']:.4f} at step "
          f"{teacher_summary['best_step']}")
    hard = Curve.load(OUT / "full" / "curve.json")
    print("| student | base -> best (step) | vs hard labels (95% CI) | teacher: above positive / dropped "
          "| teacher scoring s | training s | peak RSS (GiB) |")
    print("|---|---|---|---|---|---|---|")
    for label, (name, (summary, _)) in runs.items():
        curve = Curve.load(OUT / name / "curve.json")
        delta = paired_bootstrap_ci(curve.best()["per_query"]["test"], hard.best()["per_query"]["test"])
        versus = "–" if name == "full" else f"{delta.mean:+.4f} [{delta.low:+.4f}, {delta.high:+.4f}]"
        teacher_facts = summary.get("teacher")
        dropped = f"{teacher_facts['above_positive']:,} / {teacher_facts['dropped']:,}" if teacher_facts else "–"
        scoring = f"{teacher_facts['pairs']['model_seconds']:.0f}" if teacher_facts else "–"
        print(f"| {label} | {summary['base']:.4f} -> {summary['best']:.4f} ({summary['best_step']}) | {versus} | "
              f"{dropped} | {scoring} | {summary['seconds']:.0f} | {gib(summary['memory']['measured_peak_bytes'])} |")


if __name__ == "__main__":
    main()
