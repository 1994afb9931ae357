"""Matryoshka training vs truncating a plain fine-tune, at 128 of MiniLM's 384 dimensions, on the same split of
xquad_r_zh reranking: both runs 12 steps of 16 queries at lr 2e-5 (bench/_finetune.py), the plain one shared with
bench/finetune_lora.py. The Matryoshka run's best checkpoint (chosen at full width) is scored at 128 by the run
itself; the plain run's best/ is cut to 128 as `embedlab sweep --dims 128` cuts it. Paired CI over the test queries.
"""

from __future__ import annotations

from _env import machine
from _finetune import OUT, finetune, split

from embedlab.demo import default_model
from embedlab.results.curve import Curve
from embedlab.results.stats import paired_bootstrap_ci

WIDTH = 128


def truncated(model_dir, dim: int) -> tuple[float, list[float]]:
    """`model_dir` scored on the test rows with its vectors cut to `dim` (the sweep's truncation)."""
    from embedlab.embedding.store import EmbeddingStore
    from embedlab.finetune.matryoshka import TruncatedScorer
    from embedlab.models import ModelOptions
    from embedlab.models.sentence_transformers import SentenceTransformerEncoder
    from embedlab.run.evaluation import load_tasks

    task = load_tasks(split() / "test.jsonl", expect="reranking")[0]
    store = EmbeddingStore(SentenceTransformerEncoder(str(model_dir), ModelOptions(device="cpu")), progress=False)
    result = TruncatedScorer(store, dim).score(task)
    return result.scores["v1.map"], list(result.per_query["v1.map"])


def main() -> None:
    model = str(default_model())
    plain, _ = finetune("full", model, "--lr", "2e-5")
    mat, seconds = finetune("matryoshka", model, "--lr", "2e-5", "--matryoshka", "384,256,128,64")
    print(machine("torch", "sentence-transformers", "transformers"))
    curve = Curve.load(OUT / "matryoshka" / "curve.json")
    print("| step | @384 | @256 | @128 | @64 |")
    print("|---|---|---|---|---|")
    for p in curve.points:
        dims = " | ".join(f"{p['dims'][d]['scores']['test']['v1.map']:.4f}" for d in ("256", "128", "64"))
        print(f"| {p['step']} | {curve.value(p):.4f} | {dims} |")
    best = curve.best()
    at_width = best["dims"][str(WIDTH)]
    cut, cut_per_query = truncated(OUT / "full" / "best", WIDTH)
    base_cut, _ = truncated(model, WIDTH)
    delta = paired_bootstrap_ci(at_width["per_query"]["test"], cut_per_query)
    print(f"base MiniLM @{WIDTH}: {base_cut:.4f}; plain fine-tune best/ @384 {plain['best']:.4f}, cut to @{WIDTH}: "
          f"{cut:.4f}; Matryoshka best (step {best['step']}) @384 {curve.value(best):.4f}, @{WIDTH}: "
          f"{at_width['scores']['test']['v1.map']:.4f}")
    print(f"Matryoshka @{WIDTH} - plain cut @{WIDTH}: {delta.mean:+.4f}, 95% CI [{delta.low:+.4f}, {delta.high:+.4f}]: "
          f"{'tied' if delta.low <= 0 <= delta.high else 'different'}")
    plain_best = Curve.load(OUT / "full" / "curve.json").best()
    full = paired_bootstrap_ci(best["per_query"]["test"], plain_best["per_query"]["test"])
    print(f"what it costs at full width: Matryoshka @384 - plain @384 (best checkpoints): {full.mean:+.4f}, 95% CI "
          f"[{full.low:+.4f}, {full.high:+.4f}]: {'tied' if full.low <= 0 <= full.high else 'different'}")
    ties = mat["matryoshka"]
    print(f"widths tied with full width at the best checkpoint: {ties['tied_with_full']}; "
          + "; ".join(f"@{d} {w['delta']['mean']:+.4f} [{w['delta']['low']:+.4f}, {w['delta']['high']:+.4f}]"
                      for d, w in ties["widths"].items()) + f"; {seconds or mat['seconds']:.0f} s")


if __name__ == "__main__":
    main()
