"""A real (small) reranker without a download: the bundled MiniLM trained as a cross-encoder on the train rows of a
leakage-safe split, with `embedlab finetune --cross-encoder` (sentence-transformers' CrossEncoderTrainer, binary
cross-entropy, the checkpoint curve on the test rows, best/ kept).

No cross-encoder can be fetched from the hub here, so the README's "Which retrieval stack?" reranks with this one,
and bench/finetune_distill.py distils it. Its test rows were never trained on: `embedlab split` keeps equal queries
in one split. One epoch, every 100 steps on the curve, batch 16, lr 5e-5, 4 negatives per positive, 256 tokens.

    python bench/train_reranker.py [-o bench/out/finetune-modes/reranker]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _finetune import OUT, finetune

SETTINGS = ["--cross-encoder", "--epochs", "1", "--eval-every", "100", "--batch-size", "16", "--lr", "5e-5",
            "--group-size", "5", "--max-length", "256", "--seed", "0", "-q"]


def train_reranker(out: Path) -> tuple[dict, float]:
    from embedlab.demo import default_model

    return finetune(str(out.relative_to(OUT)) if out.is_relative_to(OUT) else str(out), str(default_model()),
                    *SETTINGS, common=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUT / "reranker")
    summary, seconds = train_reranker(parser.parse_args().output)
    print(f"{summary['pairs']:,} pairs, {summary['steps']} steps in {seconds:.0f} s; best/ at step "
          f"{summary['best_step']}")


if __name__ == "__main__":
    main()
