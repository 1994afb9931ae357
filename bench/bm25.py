"""BM25: parity with mteb 2.x's `mteb/baseline-bm25s`, jieba words vs characters on Chinese, and index +
search time and memory on synthetic corpora, beside mteb's BM25 on the same corpus.

1. Parity (../shared/data): every score mteb's BM25 gives (a query's top 1000, as mteb searches) against
   embedlab's for the same document; then the metrics of `embedlab.evaluate("bm25")` against
   `mteb.evaluate`. xquad_r_zh is given to mteb as Chinese (zho-Hans: its char tokenizer), cranfield_en
   as English; embedlab's `bm25` picks the same tokenizers by script (auto).
2. Tokenizers: `bm25:char` vs `bm25:word` (jieba) on xquad_r_zh, with bootstrap CIs and a paired
   randomization test (`results.compare`).
3. Scale: seeded synthetic Chinese passages (Zipf over 3,000 Han characters, ~60 characters each) and
   1,000 queries (10-character windows of random passages), char tokenizer, top 100. Each measurement
   runs in its own child process; memory is the extra peak RSS (VmHWM) over the corpus already in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from _env import machine, require_data

os.environ.setdefault("TQDM_DISABLE", "1")  # mteb's BM25 and bm25s draw progress bars otherwise
MB = 2**20
RERANK = "xquad_r_zh/reranking/test.jsonl"
RETRIEVAL = {"xquad_r_zh sentence": ("xquad_r_zh/retrieval_sentence", "zho-Hans"),
             "xquad_r_zh paragraph": ("xquad_r_zh/retrieval_paragraph", "zho-Hans"),
             "cranfield_en": ("cranfield_en/retrieval", "eng-Latn")}
RERANK_METRICS = [("map_at_1000", "v2.map@1000"), ("mrr_at_10", "v2.mrr@10"), ("ndcg_at_10", "v2.ndcg@10")]
RETRIEVAL_METRICS = [("ndcg_at_10", "ndcg@10"), ("map_at_100", "map@100"), ("recall_at_1000", "recall@1000"),
                     ("mrr_at_10", "mrr@10"), ("precision_at_5", "precision@5")]


def load(data):
    from embedlab.data import load_reranking, load_retrieval

    return load_reranking(data / RERANK), {name: (load_retrieval(data / folder), language)
                                           for name, (folder, language) in RETRIEVAL.items()}


def score_parity(rerank, retrieval) -> None:
    from mteb.models.model_implementations.bm25 import BM25Search

    from embedlab.models.bm25 import BM25
    from embedlab.tasks.mteb import mteb_search

    print("| data | tokenizer (mteb language) | scores compared | max abs diff | documents in one top 1000 only |")
    print("|---|---|---|---|---|")
    theirs = mteb_search(BM25Search(), rerank, language="zho-Hans")
    ours = BM25("char").score_rows([row.query for row in rerank.rows], [row.candidates for row in rerank.rows])
    starts = np.cumsum([0] + [len(row.candidates) for row in rerank.rows])
    diffs = [abs(score - ours[starts[i] + int(doc.rsplit("_", 1)[1]) + (0 if doc.startswith("apos")
                                                                        else len(row.positives))])
             for i, row in enumerate(rerank.rows) for doc, score in theirs[f"test_query{i}"].items()]
    print(f"| xquad_r_zh reranking | char (zho-Hans) | {len(diffs):,} | {max(diffs):.1e} | – |")
    for name, (task, language) in retrieval.items():
        tokenizer = "char" if language.startswith("zho") else "word"
        theirs = mteb_search(BM25Search(), task, language=language)
        idx, scores = BM25(tokenizer).rank(task.queries, task.corpus, 1000)
        ids, diffs, apart = list(task.corpus), [], 0
        for row, qid in enumerate(task.queries):
            mine = {ids[i]: float(s) for i, s in zip(idx[row], scores[row]) if i >= 0}
            apart += len(mine.keys() ^ theirs[qid].keys())
            diffs += [abs(mine[d] - s) for d, s in theirs[qid].items() if d in mine]
        print(f"| {name} retrieval | {tokenizer} ({language}) | {len(diffs):,} | {max(diffs):.1e} | {apart} |")


def metric_parity(rerank, retrieval) -> None:
    import mteb

    import embedlab
    from embedlab.tasks.mteb import to_mteb

    union = sum(len(row.candidates) for row in rerank.rows)
    tasks = [to_mteb(rerank, "R1000", language="zho-Hans"), to_mteb(rerank, "Rall", language="zho-Hans")]
    tasks[1]._top_k = union
    tasks += [to_mteb(task, name, language=language) for name, (task, language) in retrieval.items()]
    result = mteb.evaluate(mteb.get_model("mteb/baseline-bm25s"), tasks, cache=None, show_progress_bar=False)
    theirs = {r.task_name: r.scores["test"][0] for r in result.task_results}
    ours = embedlab.evaluate("bm25", [rerank, *(task for task, _ in retrieval.values())]).runs[0].tasks
    print("\n| task | metric | mteb | embedlab `bm25` | abs diff |\n|---|---|---|---|---|")
    for label, name in ((f"xquad_r_zh reranking, mteb top_k {union:,} (every candidate)", "Rall"),
                        ("xquad_r_zh reranking, mteb default top_k 1000", "R1000")):
        for mteb_name, our_name in RERANK_METRICS:
            a, b = theirs[name][mteb_name], ours[0].scores[our_name]
            print(f"| {label} | {mteb_name} | {a:.5f} | {b:.5f} | {abs(a - b):.1e} |")
    for (name, _), result in zip(retrieval.items(), ours[1:]):
        for mteb_name, our_name in RETRIEVAL_METRICS:
            a, b = theirs[name][mteb_name], result.scores[our_name]
            print(f"| {name} | {mteb_name} | {a:.5f} | {b:.5f} | {abs(a - b):.1e} |")
    print("\nmteb rounds its scores to 5 decimals; differences up to 5e-6 are that rounding.")
    dropped(rerank)


def dropped(rerank) -> None:
    """What mteb's default reranking search leaves out: candidates outside the query's top 1000 of all."""
    from mteb.models.model_implementations.bm25 import BM25Search

    from embedlab.tasks.mteb import mteb_search

    theirs = mteb_search(BM25Search(), rerank, language="zho-Hans")
    missing = positives = 0
    for i, row in enumerate(rerank.rows):
        kept = theirs[f"test_query{i}"]
        missing += len(row.candidates) - len(kept)
        positives += sum(f"apositive_test_query{i}_{j:05d}" not in kept for j in range(len(row.positives)))
    print(f"mteb's default search keeps each query's top 1000 of all {sum(len(r.candidates) for r in rerank.rows):,} "
          f"candidates of the task, then the row's: it leaves out {missing:,} candidates ({positives} positives), "
          "which count as not retrieved. embedlab scores every candidate.")


def per_row_index(rerank) -> None:
    from embedlab.models.bm25 import BM25
    from embedlab.scorers import BM25Scoring, RankerScorer
    from embedlab.tasks.scoring import score_reranking

    union = score_reranking(rerank, BM25Scoring(BM25("char")).candidate_scores(rerank))["v2.map@1000"].mean()
    alone = score_reranking(rerank, RankerScorer(BM25("char")).candidate_scores(rerank))["v2.map@1000"].mean()
    print(f"\nxquad_r_zh reranking, char, map@1000: one index over all candidates (mteb's, embedlab's) "
          f"{union:.4f}; one index per row (IDF over the row's own candidates) {alone:.4f}")


def tokenizers(rerank, retrieval) -> None:
    import embedlab
    from embedlab.results.compare import compare

    tasks = [rerank, *(task for name, (task, _) in retrieval.items() if name.startswith("xquad"))]
    results = embedlab.evaluate(["bm25:char", "bm25:word"], tasks)
    seconds = {run.model["name"]: run.embedding["model_seconds"] for run in results.runs}
    print("\n| task | metric | char [95% CI] | word (jieba) [95% CI] | word - char [95% CI] | p |")
    print("|---|---|---|---|---|---|")
    for task, metric in zip(tasks, ["v2.map@1000", "ndcg@10", "ndcg@10"]):
        comparison = next(c for c in compare(results, metric=metric, baseline="bm25:char") if c.task == task.name)
        char, word = comparison.rows
        print(f"| {task.name} | {metric} | {char.mean:.4f} [{char.ci.low:.4f}, {char.ci.high:.4f}] | "
              f"{word.mean:.4f} [{word.ci.low:.4f}, {word.ci.high:.4f}] | {word.delta.mean:+.4f} "
              f"[{word.delta.low:+.4f}, {word.delta.high:+.4f}] | {word.p_value:.4f} |")
    print(f"\nmodel time for the three tasks (index + search): char {seconds['bm25:char']:.1f} s, "
          f"word {seconds['bm25:word']:.1f} s")


def synthetic(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """n passages (Zipf over 3,000 Han characters, ~60 characters) and 1,000 queries, built in chunks."""
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(1 / np.arange(1, 3001))
    cdf /= cdf[-1]
    docs: list[str] = []
    for start in range(0, n, 10_000):
        lengths = np.clip(rng.normal(60, 20, min(10_000, n - start)).astype(int), 5, 200)
        chars = np.searchsorted(cdf, rng.random(lengths.sum())).clip(0, 2999) + 0x4E00
        flat, ends = "".join(map(chr, chars.tolist())), np.cumsum(lengths)
        docs += [flat[end - size:end] for end, size in zip(ends, lengths)]
    picks = rng.integers(0, n, 1000)
    queries = [docs[i][:10] for i in picks]
    return docs, queries


def peak_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited from the parent across fork + exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) * 1024 / MB


def child(method: str, n: int, k: int) -> None:
    """Runs in a fresh process: corpus, baseline, index, search; JSON on stdout."""
    docs, queries = synthetic(n)
    if method == "mteb":
        from mteb.models.model_implementations.bm25 import BM25Search

        from embedlab.tasks.mteb import to_mteb
        from embedlab.tasks.retrieval import RetrievalTask

        corpus = {f"d{i}": text for i, text in enumerate(docs)}
        task = to_mteb(RetrievalTask("synthetic", corpus, {f"q{i}": q for i, q in enumerate(queries)},
                                     {f"q{i}": {"d0": 1} for i in range(len(queries))}), language="zho-Hans")
        task.load_data()
        split, model = task.dataset["default"]["test"], BM25Search()
        where = {"task_metadata": task.metadata, "hf_split": "test", "hf_subset": "default", "encode_kwargs": {}}
        base = peak_mb()
        start = time.perf_counter()
        model.index(corpus=split["corpus"], **where)
        built = time.perf_counter()
        model.search(split["queries"], top_k=k, top_ranked=None, **where)
    else:
        from embedlab.models.bm25 import BM25

        model, corpus = BM25("char"), {f"d{i}": text for i, text in enumerate(docs)}
        base = peak_mb()
        start = time.perf_counter()
        model.rank({"warm": queries[0]}, corpus, k)  # builds the index (one query)
        built = time.perf_counter()
        model.rank({f"q{i}": q for i, q in enumerate(queries)}, corpus, k)
    done = time.perf_counter()
    print(json.dumps({"index_s": built - start, "search_s": done - built, "extra_mb": peak_mb() - base,
                      "corpus_mb": base}))


def scale(sizes: list[int], mteb_max: int, k: int) -> None:
    print("\n| passages | implementation | index (s) | search, 1,000 queries (s) | extra peak RSS (MB) | "
          "process RSS before (MB) | embedlab / mteb time |\n|---|---|---|---|---|---|---|")
    for n in sizes:
        stats = {}
        for method in ("embedlab", "mteb") if n <= mteb_max else ("embedlab",):
            out = subprocess.run([sys.executable, __file__, "--child", method, str(n), "-k", str(k)],
                                 check=True, capture_output=True, text=True).stdout
            stats[method] = json.loads(out.strip().splitlines()[-1])
        for method, s in stats.items():
            ratio = ""
            if method == "embedlab" and "mteb" in stats:
                mine, theirs = s["index_s"] + s["search_s"], stats["mteb"]["index_s"] + stats["mteb"]["search_s"]
                ratio = f"**{mine / theirs:.2f}x**"
            print(f"| {n:,} | {method} | {s['index_s']:.1f} | {s['search_s']:.1f} | {s['extra_mb']:,.0f} | "
                  f"{s['corpus_mb']:,.0f} | {ratio} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--mteb-max", type=int, default=300_000, help="largest corpus also run through mteb")
    parser.add_argument("-k", type=int, default=100)
    parser.add_argument("--skip", nargs="*", default=[], choices=["parity", "tokenizers", "scale"])
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.k)
        return
    print(machine("bm25s", "jieba", "mteb"))
    if "parity" not in args.skip or "tokenizers" not in args.skip:
        rerank, retrieval = load(require_data())
        if "parity" not in args.skip:
            score_parity(rerank, retrieval)
            metric_parity(rerank, retrieval)
            per_row_index(rerank)
        if "tokenizers" not in args.skip:
            tokenizers(rerank, retrieval)
    if "scale" not in args.skip:
        scale(args.sizes, args.mteb_max, args.k)


if __name__ == "__main__":
    main()
