"""A real (small) reranker without a download: the bundled MiniLM trained as a cross-encoder on the train rows
of a leakage-safe split, with sentence-transformers' CrossEncoderTrainer (binary cross-entropy, one label).

No cross-encoder can be fetched from the hub here, so the README's "Which retrieval stack?" reranks with this
one. Its test rows were never trained on: `embedlab split` keeps equal queries in one split.

    python bench/train_reranker.py --train splits/train.jsonl -o bench/out/minilm-reranker [--epochs 1]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path


def pairs(path: Path, negatives: int, seed: int) -> dict[str, list]:
    """(query, passage, label) columns: each positive 1, up to `negatives` of the row's negatives 0."""
    rng = random.Random(seed)
    columns: dict[str, list] = {"query": [], "passage": [], "label": []}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        chosen = [(text, 1.0) for text in row.get("positive") or row.get("pos") or []]
        others = list(row.get("negative") or row.get("neg") or [])
        chosen += [(text, 0.0) for text in rng.sample(others, min(negatives, len(others)))]
        for text, label in chosen:
            columns["query"].append(row["query"])
            columns["passage"].append(text)
            columns["label"].append(label)
    return columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--negatives", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoder,
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from embedlab.demo import default_model

    data = Dataset.from_dict(pairs(args.train, args.negatives, args.seed))
    model = CrossEncoder(default_model(), num_labels=1, max_length=256, device="cpu")
    training = CrossEncoderTrainingArguments(
        output_dir=str(args.output / "trainer"), num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size, learning_rate=args.lr, warmup_steps=0.1, seed=args.seed,
        save_strategy="no", report_to="none", use_cpu=True, logging_steps=50)
    started = time.perf_counter()
    CrossEncoderTrainer(model=model, args=training, train_dataset=data,
                        loss=BinaryCrossEntropyLoss(model)).train()
    model.save(str(args.output))
    print(f"{len(data):,} pairs, {args.epochs} epoch(s) in {time.perf_counter() - started:.0f} s -> {args.output}")


if __name__ == "__main__":
    main()
