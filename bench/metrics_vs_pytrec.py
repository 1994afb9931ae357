"""Ranking metrics: `embedlab.metrics.ranking_metrics` vs pytrec_eval on the same synthetic run.

Seeded synthetic data: each query ranks `--depth` distinct documents of a `--docs` collection with
random float scores rounded to 4 decimals (so ties occur), and has 1-8 judged documents graded 0-3,
about 70% of them in its ranked list and the rest not retrieved. Both sides compute the same 35 values
per query: nDCG, MAP, recall, precision and hit rate (trec_eval's success) at k = 1 ... 1000.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _env import machine

PYTREC = {"ndcg": "ndcg_cut", "map": "map_cut", "recall": "recall", "precision": "P",
          "hit_rate": "success"}


def synthetic(n_queries: int, depth: int, n_docs: int, seed: int):
    """Ranked doc indices (Q, depth) in arbitrary order, their scores, and qrels {qid: {docid: grade}}."""
    rng = np.random.default_rng(seed)
    ranked = np.concatenate([np.argpartition(rng.random((chunk, n_docs)), depth, axis=1)[:, :depth]
                             for chunk in np.diff(np.r_[0:n_queries:1000, n_queries])])
    scores = np.round(rng.random(ranked.shape), 4)
    qrels = {}
    for q in range(n_queries):
        n_judged = rng.integers(1, 9)
        picked = np.where(rng.random(n_judged) < 0.7, ranked[q, rng.integers(0, depth, n_judged)],
                          rng.integers(0, n_docs, n_judged))
        qrels[f"q{q:05d}"] = {f"d{d:05d}": int(rng.integers(0, 4)) for d in picked}
    return ranked, scores, qrels


def embedlab_scores(ranked, scores, task, position, metrics):
    """trec_eval's order (score desc, then doc id desc), the gains lookup, then the metrics.

    Returns the values and the seconds of the three steps (sort, gains, metrics)."""
    from embedlab.metrics import ranking_metrics
    from embedlab.tasks.scoring import relevance_of

    t0 = time.perf_counter()
    order = np.lexsort((-ranked, -scores), axis=1)
    in_order = np.take_along_axis(ranked, order, axis=1)
    t1 = time.perf_counter()
    gains, n_rel, ideal = relevance_of(task, in_order, position)
    t2 = time.perf_counter()
    values = ranking_metrics(gains, n_rel, ideal, metrics)
    return values, np.array([t1 - t0, t2 - t1, time.perf_counter() - t2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--depth", type=int, default=1000, help="ranked documents per query")
    parser.add_argument("--docs", type=int, default=20_000, help="collection size")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (best is kept)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import pytrec_eval

    from embedlab.metrics import DEFAULT_K, all_metrics
    from embedlab.tasks import RetrievalTask

    ranked, scores, qrels = synthetic(args.queries, args.depth, args.docs, args.seed)
    doc_ids = [f"d{d:05d}" for d in range(args.docs)]  # fixed width: id order == index order
    metrics = [m for m in all_metrics(DEFAULT_K) if m.measure in PYTREC]
    measures = {f"{PYTREC[m]}.{','.join(map(str, DEFAULT_K))}" for m in PYTREC}

    task = RetrievalTask("synthetic", dict.fromkeys(doc_ids, ""), dict.fromkeys(qrels, ""), qrels)
    position = {d: i for i, d in enumerate(doc_ids)}
    ours_steps, theirs_eval, theirs_total = [], [], []
    for _ in range(args.repeat):
        ours, steps = embedlab_scores(ranked, scores, task, position, metrics)
        ours_steps.append(steps)

        start = time.perf_counter()
        run = {qid: dict(zip([doc_ids[d] for d in row], row_scores.tolist()))
               for qid, row, row_scores in zip(qrels, ranked, scores)}
        evaluator = pytrec_eval.RelevanceEvaluator(qrels, measures)
        evaluated = time.perf_counter()
        theirs = evaluator.evaluate(run)
        done = time.perf_counter()
        theirs_eval.append(done - evaluated)
        theirs_total.append(done - start)
        del run

    worst = 0.0
    for metric in metrics:
        name = f"{PYTREC[metric.measure]}_{metric.k}"
        reference = np.array([theirs[qid][name] for qid in qrels])
        worst = max(worst, float(np.abs(ours[str(metric)] - reference).max()))

    sort_s, gains_s, metrics_s = np.min(ours_steps, axis=0)  # best of each step
    ours_total, pytrec_s = sort_s + gains_s + metrics_s, min(theirs_eval)
    ratio = pytrec_s / ours_total
    print(machine("pytrec-eval-terrier"))
    print(f"{args.queries:,} queries x {args.depth:,} ranked docs, {len(metrics)} measures "
          f"(5 x k in {DEFAULT_K}); best of {args.repeat} runs\n")
    rows = [
        ("embedlab `ranking_metrics` only (gains matrix given)", metrics_s),
        ("embedlab + `relevance_of` gains lookup (run already in trec order, as `top_k` returns it)",
         gains_s + metrics_s),
        ("embedlab + sorting the raw run into trec order (score desc, id desc)", ours_total),
        ("pytrec_eval `evaluate(run)` only (it sorts and looks up itself)", pytrec_s),
        ("pytrec_eval + building the run dict and `RelevanceEvaluator`", min(theirs_total)),
    ]
    print("| what is timed | seconds | speed-up vs pytrec `evaluate` |\n|---|---|---|")
    for label, seconds in rows:
        speedup = f"{pytrec_s / seconds:.1f}x" if label.startswith("embedlab") else ""
        print(f"| {label} | {seconds:.2f} | {speedup} |")
    pipeline = pytrec_s / (gains_s + metrics_s)
    print(f"\ngoal >= 10x for metric computation as embedlab does it (ranked lists from its search -> "
          f"gains lookup -> metrics) vs pytrec evaluate: {'met' if pipeline >= 10 else 'NOT met'} "
          f"({pipeline:.1f}x); metrics alone {pytrec_s / metrics_s:.1f}x; including a sort of a raw, "
          f"unordered run (a step embedlab's search makes unnecessary) {ratio:.1f}x")
    print(f"largest per-query difference over {len(metrics)} measures x {args.queries:,} queries: "
          f"{worst:.1e} ({'identical to 1e-9' if worst <= 1e-9 else 'DIFFER beyond 1e-9'})")


if __name__ == "__main__":
    main()
