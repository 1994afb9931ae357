"""Hybrid fusion on real data: parity with mteb's fusion functions, and what a weight sweep finds.

1. Parity. The bundled MiniLM (embedlab's exact top-k) and BM25 (bm25s; jieba words for Chinese; a bench-local
   Ranker, not embedlab's own bm25 model) rank xquad_r_zh sentence retrieval and Cranfield 1,000 deep: the
   depth mteb's `HybridSearch` gives each sub-model when an evaluation goes to k = 1,000. Each fusion (rrf,
   dbsf, rsf), at equal and at 0.7/0.3 weights, is computed by `embedlab.search.fusion` and by mteb's
   `fuse_rrf` / `fuse_dbsf` / `fuse_relative_score_fusion` on the same rankings as {doc id: score} dicts,
   sorted as `HybridSearch.search` sorts them. Reported: the queries whose fused top 1,000 is identical (ids
   and order), the largest |fused score difference|, and each side's time (mteb's without building its dicts).
2. Sweep. `embedlab.evaluate(Hybrid([MiniLM, BM25], weights="sweep"))` on the same data (rrf): each weight's
   nDCG@10, the best with its CI and paired tests, the equal-weight note; its time against one fusion, both
   with the vectors from a cache, so what differs is the fusion and the metrics.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np
from _env import machine, require_data

from embedlab.models.base import Ranker

SETS = {"xquad": ("xquad_r_zh/retrieval_sentence", True), "cranfield": ("cranfield_en/retrieval", False)}
DEPTH = 1000
_PUNCTUATION = re.compile(r"^\W+$")


class BenchBM25(Ranker):
    """BM25 (bm25s defaults, k1=1.5, b=0.75) over jieba words (Chinese) or stemmed words without stopwords
    (English, as mteb's bm25s baseline); ties go to the higher id, as in trec_eval."""

    def __init__(self, chinese: bool) -> None:
        self.chinese = chinese
        self.name = "bm25s-bench"

    def words(self, text: str) -> list[str]:
        if self.chinese:
            import jieba

            return [t for t in jieba.lcut_for_search(text.lower()) if t.strip() and not _PUNCTUATION.match(t)]
        import bm25s
        import Stemmer

        return bm25s.tokenize([text], stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=False,
                              show_progress=False)[0]

    def rank(self, queries, corpus, depth):
        import bm25s

        ids = list(corpus)
        tie_rank = np.empty(len(ids), dtype=np.int64)
        tie_rank[np.argsort(np.array(ids, dtype=object), kind="stable")] = np.arange(len(ids))
        retriever = bm25s.BM25()
        retriever.index([self.words(text) for text in corpus.values()], show_progress=False)
        scores = np.stack([retriever.get_scores(self.words(q)) for q in queries.values()]).astype(np.float32)
        order = np.lexsort((-np.broadcast_to(tie_rank, scores.shape), -scores), axis=1)[:, :depth]
        return order, np.take_along_axis(scores, order, axis=1)


def rankings(task, encoder, bm25, cache: Path):
    from embedlab.embedding.cache import open_cache
    from embedlab.embedding.store import EmbeddingStore
    from embedlab.scorers import DenseScorer, RankerScorer

    store = EmbeddingStore(encoder, progress=False, cache=open_cache(cache, False))
    try:
        dense = DenseScorer(store).ranking(task, DEPTH)
    finally:
        store.cache.close()
    return [dense, RankerScorer(bm25).ranking(task, DEPTH)]


def parity(task, ranked) -> list[str]:
    from mteb.models import hybrid_wrappers as theirs

    from embedlab.search.fusion import Fusion
    from embedlab.tasks.scoring import tie_order

    ids = list(task.corpus)
    per_query = [[{ids[d]: float(s) for d, s in zip(idx[q], scores[q]) if d >= 0} for idx, scores in ranked]
                 for q in range(len(task.queries))]
    functions = {"rrf": theirs.fuse_rrf, "dbsf": theirs.fuse_dbsf, "rsf": theirs.fuse_relative_score_fusion}
    rows = []
    for method, function in functions.items():
        for weights in ([0.5, 0.5], [0.7, 0.3]):
            start = time.perf_counter()
            idx, fused = Fusion(ranked, method, tie_order(task)).fuse(weights, DEPTH)
            ours = time.perf_counter() - start
            start = time.perf_counter()
            expected = [sorted(function(q, weights).items(), key=lambda x: (x[1], x[0]), reverse=True)[:DEPTH]
                        for q in per_query]
            mteb_seconds = time.perf_counter() - start
            same, worst = 0, 0.0
            for q, reference in enumerate(expected):
                got = [(ids[d], s) for d, s in zip(idx[q], fused[q]) if d >= 0]
                same += [d for d, _ in got] == [d for d, _ in reference]
                worst = max([worst] + [abs(a - b) for (_, a), (_, b) in zip(got, reference)])
            rows.append(f"| {method} | {weights[0]:g} / {weights[1]:g} | {same:,} / {len(expected):,} | {worst:.1e} "
                        f"| {ours:.3f} | {mteb_seconds:.3f} | {mteb_seconds / ours:.0f}x |")
    return rows


def sweep(task, encoder, bm25, cache: Path) -> list[str]:
    import embedlab
    from embedlab.models.hybrid import Hybrid
    from embedlab.report.sweep import markdown_sweep
    from embedlab.results.sweep import sweep_summaries
    from embedlab.run.evaluation import RunOptions

    run = RunOptions(cache=cache)
    start = time.perf_counter()
    one = embedlab.evaluate(Hybrid([encoder, bm25]), [task], run=run)
    single = time.perf_counter() - start
    start = time.perf_counter()
    swept = embedlab.evaluate(Hybrid([encoder, bm25], weights="sweep"), [task], run=run)
    seconds = time.perf_counter() - start
    summary, = sweep_summaries(swept)
    lines = markdown_sweep(summary)[2:]  # the section heading is the caller's
    equal = one.runs[0].tasks[0].scores["ndcg@10"]
    lines += [f"Time, vectors from the cache: one fusion {single:.1f} s (equal weights, nDCG@10 {equal:.4f}); the "
              f"sweep ({len(swept.runs)} runs: 2 sub-models + {len(summary.curve)} weights) {seconds:.1f} s.", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args()
    data = require_data()

    from embedlab.data import load_retrieval
    from embedlab.demo import default_model
    from embedlab.models import load_model

    print(f"Machine: {machine('mteb', 'bm25s', 'jieba')}\n")
    encoder = load_model(default_model())
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "vectors.sqlite"
        for name in args.sets:
            path, chinese = SETS[name]
            task = load_retrieval(data / path)
            bm25 = BenchBM25(chinese)
            ranked = rankings(task, encoder, bm25, cache)
            print(f"### {name}: fusion parity with mteb ({len(task.corpus):,} docs, {len(task.queries):,} queries, "
                  f"each model {DEPTH:,} deep)\n")
            print("| fusion | weights MiniLM / BM25 | identical top 1,000 | max abs diff | embedlab s | mteb s "
                  "| mteb / embedlab |\n|---|---|---|---|---|---|---|")
            print("\n".join(parity(task, ranked)) + "\n")
            if not args.skip_sweep:
                print(f"### {name}: `--weights sweep` (rrf), MiniLM + BM25\n")
                print("\n".join(sweep(task, encoder, bm25, cache)))


if __name__ == "__main__":
    main()
