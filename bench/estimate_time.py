"""`embedlab estimate`'s measured time for a local model against the encoding time of the `eval` it predicts.

The estimate encodes a probe (one batch, up to 32, of similar-length texts from the middle of each quarter of the lengths,
per kind of text, after a warm-up) and extrapolates; the eval that follows encodes every text, batched as it always
is. Both in the same process, alternating `--repeat` times: the ratio is estimate / actual, per round, so a machine
whose load changes between rounds shows as spread between them.
"""

from __future__ import annotations

import argparse
import statistics

from _env import machine, require_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=["xquad", "cranfield"], default="xquad")
    parser.add_argument("--model", default=None, help="a local model [default: the bundled MiniLM]")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from embedlab import demo, evaluate
    from embedlab.models.base import ModelOptions
    from embedlab.models.registry import load_model
    from embedlab.run.estimate import estimate
    from embedlab.run.evaluation import RunOptions, load_tasks

    data = require_data()
    paths = [data / "xquad_r_zh/reranking/test.jsonl", data / "xquad_r_zh/retrieval_sentence"] if args.set == "xquad" \
        else [data / "cranfield_en/retrieval"]
    tasks = load_tasks(paths)
    model = load_model(args.model or demo.default_model(), ModelOptions())
    print(f"machine: {machine('torch', 'sentence-transformers')}\n")
    print("| round | texts | estimated s | the probe | encoded s in eval | estimate / actual |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for round_number in range(1, args.repeat + 1):
        row = estimate([model], tasks, cache=False, probe=True)[0]
        results = evaluate(model, tasks, run=RunOptions(cache=False, progress=False))
        actual = results.runs[0].embedding["encode_seconds"]
        ratios.append(row["seconds"] / actual)
        print(f"| {round_number} | {row['to_embed']:,} | {row['seconds']:.1f} | {row['time_basis']} | {actual:.1f} | "
              f"{ratios[-1]:.2f} |")
    print(f"\nestimate / actual: median **{statistics.median(ratios):.2f}**, range {min(ratios):.2f}-{max(ratios):.2f}")


if __name__ == "__main__":
    main()
