"""End-to-end wall time and scores: `embedlab.evaluate` vs `mteb.evaluate` (2.x) on the same model and data.

Data, from ../shared/data: `--set xquad` (default) = xquad_r_zh reranking (test.jsonl) + sentence
retrieval, whose texts repeat across rows and tasks; `--set cranfield` = Cranfield retrieval alone, where
no text repeats (the case where de-duplication cannot help). The model
(bundled all-MiniLM-L6-v2) is loaded once, outside the timings, and the same SentenceTransformer
object serves both libraries; each timed run includes reading the data, encoding, search and metrics.
Runs alternate (embedlab, mteb, mteb, embedlab, ...) after one warm-up encode; the median is reported.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _env import machine, require_data

RERANK_PAIRS = [("map_at_1000", "v2.map@1000"), ("mrr_at_10", "v2.mrr@10"),
                ("ndcg_at_10", "v2.ndcg@10")]
RETRIEVAL_PAIRS = [("ndcg_at_10", "ndcg@10"), ("map_at_100", "map@100"),
                   ("recall_at_100", "recall@100"), ("mrr_at_10", "mrr@10"),
                   ("precision_at_5", "precision@5")]


SETS = {  # name -> (reranking file or None, retrieval folder)
    "xquad": ("xquad_r_zh/reranking/test.jsonl", "xquad_r_zh/retrieval_sentence"),
    "cranfield": (None, "cranfield_en/retrieval"),
}


def run_embedlab(encoder, reranking, retrieval, batch_size):
    import embedlab

    start = time.perf_counter()
    from embedlab.models import ModelOptions

    results = embedlab.evaluate(encoder, [t for t in (reranking, retrieval) if t is not None],
                                model=ModelOptions(batch_size=batch_size))
    seconds = time.perf_counter() - start
    return seconds, results.runs[0]


def run_mteb(model, reranking, retrieval, batch_size):
    import mteb

    from embedlab.data import load_reranking, load_retrieval
    from embedlab.tasks.mteb import to_mteb

    start = time.perf_counter()
    # embedlab's adapter builds the tasks exactly as mteb's own legacy reranking conversion does
    tasks = {"retrieval": to_mteb(load_retrieval(retrieval), "BenchRetrieval")}
    if reranking:
        tasks["reranking"] = to_mteb(load_reranking(reranking), "BenchReranking")
    result = mteb.evaluate(model, list(tasks.values()), encode_kwargs={"batch_size": batch_size},
                           cache=None, overwrite_strategy="always", co2_tracker=False,
                           show_progress_bar=False)
    seconds = time.perf_counter() - start
    by_name = {r.task_name: r.scores["test"][0] for r in result.task_results}
    return seconds, {kind: by_name[task.metadata.name] for kind, task in tasks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each library")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--set", choices=sorted(SETS), default="xquad")
    args = parser.parse_args()
    data = require_data()
    reranking, retrieval = (data / p if p else None for p in SETS[args.set])

    import datasets

    from embedlab.demo import default_model
    from embedlab.models import ModelOptions
    from embedlab.models.sentence_transformers import SentenceTransformerEncoder

    datasets.disable_progress_bars()
    encoder = SentenceTransformerEncoder(default_model(), ModelOptions(batch_size=args.batch_size))
    encoder.encode(["warm-up"] * args.batch_size)  # first-call overheads go to neither library

    times = {"embedlab": [], "mteb": []}
    for i in range(args.repeat):
        order = ["embedlab", "mteb"] if i % 2 == 0 else ["mteb", "embedlab"]
        for library in order:
            if library == "embedlab":
                seconds, run = run_embedlab(encoder, reranking, retrieval, args.batch_size)
            else:
                seconds, theirs = run_mteb(encoder.model, reranking, retrieval, args.batch_size)
            times[library].append(seconds)
            print(f"run {i + 1}: {library} {seconds:.1f} s", flush=True)

    ours = {t.type: t for t in run.tasks}
    mteb_texts = sum(t.counts.get("rows", 0) + t.counts.get("candidates", 0) + t.counts.get("queries", 0)
                     + t.counts.get("documents", 0) for t in run.tasks)
    ours_s, theirs_s = statistics.median(times["embedlab"]), statistics.median(times["mteb"])
    ratio = ours_s / theirs_s
    print(f"\n{machine('torch', 'sentence-transformers', 'transformers', 'mteb')}")
    print(f"model: all-MiniLM-L6-v2 (bundled), batch size {args.batch_size}, CPU; median of "
          f"{args.repeat} runs each, model loading excluded\n")
    print("| | embedlab | mteb | embedlab / mteb |\n|---|---|---|---|")
    print(f"| wall time, {args.set} (s) | {ours_s:.1f} | {theirs_s:.1f} | **{ratio:.2f}x** |")
    for library in ("embedlab", "mteb"):
        print(f"| {library} runs (s) | " + ", ".join(f"{t:.1f}" for t in times[library]) + " | | |")
    encoded = [t.timings for t in run.tasks]
    print(f"\ntexts encoded per run: embedlab {run.embedding['texts_encoded']:,} (each distinct text "
          f"once per kind, across tasks), mteb {mteb_texts:,} (every query and candidate row)")
    print(f"embedlab (last run): encode {sum(t['encode_seconds'] for t in encoded):.1f} s, "
          f"score {sum(t['score_seconds'] for t in encoded):.2f} s")
    print(f"goal embedlab <= 0.5x mteb: {'met' if ratio <= 0.5 else 'NOT met'} ({ratio:.2f}x)\n")

    print("| task | mteb score | mteb | embedlab | abs diff |\n|---|---|---|---|---|")
    worst = 0.0
    for kind, pairs in (("reranking", RERANK_PAIRS), ("retrieval", RETRIEVAL_PAIRS)):
        if kind not in theirs:
            continue
        for theirs_key, ours_key in pairs:
            a, b = theirs[kind][theirs_key], ours[kind].scores[ours_key]
            worst = max(worst, abs(a - b))
            print(f"| {kind} | {theirs_key} | {a:.5f} | {b:.5f} | {abs(a - b):.1e} |")
    print(f"\nlargest difference {worst:.1e} (mteb rounds to 5 decimals, so up to 5e-6 is rounding): "
          f"{'agree' if worst <= 1e-5 else 'DIFFER'}")


if __name__ == "__main__":
    main()
