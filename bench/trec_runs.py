"""TREC runs: `-m run:` against pytrec_eval on the same files, saved runs read back, and the time to score a
large run beside pytrec_eval's.

1. Parity (../shared/data): BM25's top 1000 of cranfield_en and xquad_r_zh sentence written as TREC runs in
   four shapes: as ranked; with scores rounded to one decimal (heavy ties, decided by document id);
   "production-like" (each query's top 20 only, 10% of the queries dropped, one document in ten replaced by
   an id outside the corpus); and "float64 near-ties" (the rounded scores plus 1e-10 steps in ranked order:
   distinct as float64, tied as the C floats trec_eval holds). Each file is scored by
   `embedlab.evaluate("run:FILE")` and by pytrec_eval (`parse_run` + `RelevanceEvaluator`); per-query
   differences, max over queries. Queries missing from a run are absent from pytrec_eval's output and score 0 in
   embedlab's (trec_eval -c).
2. Round trip: `evaluate(..., save_run=DIR)` with two BM25 tokenizers on cranfield_en, read back with
   `-m run:`; the per-query metrics up to @100 (a saved run holds the top 100) must be equal.
3. Time: a seeded synthetic run, 2,000 queries x 1,000 documents (2M lines), read and scored by embedlab
   (`evaluate("run:FILE")`, ndcg/map/recall/precision/mrr/hit rate at 7 cutoffs) and by pytrec_eval
   (`parse_run` + the same measures it has), best of 3 each.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _env import machine, require_data

SETS = {"cranfield_en": "cranfield_en/retrieval", "xquad_r_zh sentence": "xquad_r_zh/retrieval_sentence"}
MEASURES = [("ndcg@10", "ndcg_cut_10"), ("map@1000", "map_cut_1000"), ("recall@100", "recall_100"),
            ("recall@1000", "recall_1000"), ("precision@5", "P_5")]


def shapes(task, folder: Path) -> dict[str, Path]:
    from embedlab.data.trec_run import write_run
    from embedlab.models.bm25 import BM25

    indices, scores = BM25().rank(task.queries, task.corpus, 1000)
    ids = np.array(list(task.corpus), dtype=object)
    ranked = [(qid, list(ids[row[row >= 0]]), values[row >= 0]) for qid, row, values in
              zip(task.queries, indices, scores)]
    rng = random.Random(0)
    out = {"as ranked": write_run(folder / "bm25.trec", ranked, "bm25"),
           "ties (1 decimal)": write_run(folder / "ties.trec", [(q, d, np.round(s.astype(np.float64), 1))
                                                               for q, d, s in ranked], "ties")}
    production = [(q, [d if rng.random() > 0.1 else f"outside-{q}-{i}" for i, d in enumerate(docs[:20])], s[:20])
                  for q, docs, s in ranked if rng.random() > 0.1]
    out["production-like"] = write_run(folder / "prod.trec", production, "prod")
    # scores that differ only beyond float32 (a float64 export): trec_eval holds them as C floats, so they tie
    near = folder / "near.trec"
    near.write_text("".join(f"{q} Q0 {d} {r + 1} {round(float(v), 1) + 1e-10 * (len(docs) - r)!r} near\n"
                            for q, docs, s in ranked for r, (d, v) in enumerate(zip(docs, s))), encoding="utf-8")
    out["float64 near-ties"] = near
    return out


def parity(data: Path) -> None:
    import pytrec_eval

    import embedlab
    from embedlab.data import load_retrieval

    print("| data | run | queries (in run) | " + " | ".join(f"max abs diff {m}" for m, _ in MEASURES)
          + " | missing queries all 0 |")
    print("|---|---|---|" + "---|" * (len(MEASURES) + 1))
    for name, folder in SETS.items():
        task = load_retrieval(data / folder)
        with tempfile.TemporaryDirectory() as tmp:
            for shape, path in shapes(task, Path(tmp)).items():
                result = embedlab.evaluate(f"run:{path}", [task]).runs[0].tasks[0]
                with open(path) as handle:
                    reference = pytrec_eval.RelevanceEvaluator(task.qrels, {m for _, m in MEASURES}).evaluate(
                        pytrec_eval.parse_run(handle))
                row = {qid: i for i, qid in enumerate(result.query_ids)}
                diffs = [max(abs(result.per_query[ours][row[q]] - reference[q][theirs]) for q in reference)
                         for ours, theirs in MEASURES]
                missing = [row[q] for q in result.query_ids if q not in reference]
                zero = all(result.per_query[ours][i] == 0 for ours, _ in MEASURES for i in missing)
                print(f"| {name} | {shape} | {len(result.query_ids):,} ({len(reference):,}) | "
                      + " | ".join(f"{d:.1e}" for d in diffs) + f" | {'yes' if zero else 'NO'} ({len(missing)}) |")


def round_trip(data: Path) -> None:
    import embedlab
    from embedlab.data import load_retrieval
    from embedlab.run.evaluation import RunOptions

    task = load_retrieval(data / SETS["cranfield_en"])
    print("| model | queries | metrics compared (@1..@100) | max abs diff saved -> run: | save time (s) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        saved = embedlab.evaluate(["bm25", "bm25:whitespace"], [task], run=RunOptions(save_run=Path(tmp) / "runs"))
        with_saving = time.perf_counter() - started
        started = time.perf_counter()
        embedlab.evaluate(["bm25", "bm25:whitespace"], [task])
        without = time.perf_counter() - started
        for run in saved.runs:
            path = run.model["saved_runs"][task.name]
            back = embedlab.evaluate(f"run:{path}", [task]).runs[0].tasks[0].per_query
            keys = [k for k in back if int(k.split("@")[1]) <= 100]
            diff = max(float(np.max(np.abs(np.subtract(back[k], run.tasks[0].per_query[k])))) for k in keys)
            print(f"| {run.model['name']} | {len(task.queries):,} | {len(keys)} | {diff:.1e} | "
                  f"{with_saving - without:+.2f} (eval {without:.2f} -> {with_saving:.2f}, both models) |")


def timing() -> None:
    import pytrec_eval

    import embedlab
    from embedlab.data.trec_run import write_run
    from embedlab.tasks.retrieval import RetrievalTask

    rng = np.random.default_rng(0)
    docs = [f"D{i}" for i in range(50_000)]
    queries = {f"Q{q}": "" for q in range(2_000)}
    qrels = {q: {docs[d]: int(rng.integers(1, 3)) for d in rng.choice(50_000, 5, replace=False)} for q in queries}
    task = RetrievalTask("synthetic", dict.fromkeys(docs, ""), queries, qrels)
    best = {"embedlab": [], "pytrec_eval": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_run(Path(tmp) / "big.trec", [(q, [docs[d] for d in rng.choice(50_000, 1000, replace=False)],
                                                   np.sort(rng.random(1000))[::-1]) for q in queries], "synthetic")
        measures = {"ndcg_cut.1,3,5,10,20,100,1000", "map_cut.1,3,5,10,20,100,1000", "recall.1,3,5,10,20,100,1000",
                    "P.1,3,5,10,20,100,1000", "success.1,3,5,10,20,100,1000"}
        for attempt in range(3):
            fresh = shutil.copy(path, Path(tmp) / f"copy{attempt}.trec")  # a new file: read, not remembered
            started = time.perf_counter()
            embedlab.evaluate(f"run:{fresh}", [task])
            best["embedlab"].append(time.perf_counter() - started)
            started = time.perf_counter()
            with open(path) as handle:
                pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(pytrec_eval.parse_run(handle))
            best["pytrec_eval"].append(time.perf_counter() - started)
        size = path.stat().st_size / 2**20
    ours, theirs = min(best["embedlab"]), min(best["pytrec_eval"])
    print(f"| run | embedlab (s) | pytrec_eval (s) | embedlab / pytrec_eval |\n|---|---|---|---|\n"
          f"| 2,000 queries x 1,000 docs ({size:.0f} MB) | {ours:.2f} | {theirs:.2f} | **{ours / theirs:.2f}x** |")


def main() -> None:
    data = require_data()
    print(f"machine: {machine('pytrec-eval-terrier', 'bm25s')}\n")
    print("### Parity with pytrec_eval\n")
    parity(data)
    print("\n### Saved runs read back\n")
    round_trip(data)
    print("\n### Time to score a large run\n")
    timing()


if __name__ == "__main__":
    sys.exit(main())
