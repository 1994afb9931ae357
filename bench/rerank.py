"""Rerankers: parity with mteb 2.x's cross-encoder evaluation, and throughput vs `CrossEncoder.predict`.

The cross-encoder is MiniLM-sized: the bundled all-MiniLM-L6-v2 encoder (6 layers, 384 wide, the shape
of cross-encoder/ms-marco-MiniLM-L6-v2) under a seeded one-label head, saved as a sentence-transformers
CrossEncoder (no model is downloaded; its scores carry no meaning, its cost per pair is a real one).
Data: xquad_r_zh from ../shared/data, a seeded sample of reranking rows and of paragraph-retrieval
queries; the first stage is the bundled MiniLM.

1. Parity: `embedlab.evaluate(first, tasks, run=RunOptions(reranker=..., rerank_depths=...))` against
   `mteb.evaluate(CrossEncoder, ...)` given the same first-stage top documents (`top_ranked`): every pair
   score (mteb's saved predictions) and every metric.
2. Throughput: the same (query, passage) pairs through embedlab's PairStore (no cache) and through
   `CrossEncoder.predict` at the same batch size, alternating, median of `--repeat` runs; then the pairs
   of several depths scored once (embedlab) vs once per depth (a loop of `predict`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _env import machine, require_data


def make_cross_encoder(folder: Path, max_length: int = 128) -> Path:
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import AutoTokenizer, BertForSequenceClassification

    from embedlab.demo import default_model

    torch.manual_seed(0)
    raw = folder / "raw"
    BertForSequenceClassification.from_pretrained(default_model(), num_labels=1).save_pretrained(raw)
    AutoTokenizer.from_pretrained(default_model()).save_pretrained(raw)
    CrossEncoder(str(raw), device="cpu", max_length=max_length).save(str(folder / "minilm-cross-encoder"))
    return folder / "minilm-cross-encoder"


def load(args):
    from embedlab.data import load_reranking, load_retrieval
    from embedlab.tasks.types import task_type

    data = require_data() / "xquad_r_zh"
    rows = load_reranking(data / "reranking" / "test.jsonl")
    retrieval = load_retrieval(data / "retrieval_paragraph")
    return (task_type(rows).sample(rows, args.rows, 0, prune_corpus=False, distractors=0),
            task_type(retrieval).sample(retrieval, args.queries, 0, prune_corpus=False, distractors=0))


def parity(cross_encoder: Path, rows, retrieval, depths, folder: Path) -> list[str]:
    import mteb
    from sentence_transformers import CrossEncoder

    import embedlab
    from embedlab.demo import default_model
    from embedlab.embedding.store import EmbeddingStore
    from embedlab.models.registry import load_model
    from embedlab.run.evaluation import RunOptions
    from embedlab.scorers import DenseScorer
    from embedlab.tasks.mteb import to_mteb

    ours = embedlab.evaluate(default_model(), [rows, retrieval],
                             run=RunOptions(reranker=str(cross_encoder), rerank_depths=tuple(depths)))
    runs = {run.model["name"]: run for run in ours.runs}
    indices, _ = DenseScorer(EmbeddingStore(load_model(default_model()), progress=False)).ranking(retrieval, max(depths))
    ids, model, scores = list(retrieval.corpus), CrossEncoder(str(cross_encoder), device="cpu"), {}
    lines = ["| task | depth | pairs | max abs diff of pair scores | metrics compared | max abs diff (mteb rounds to 5 places) |",
             "|---|---|---|---|---|---|"]
    for depth in depths:
        top = {q: [ids[i] for i in row[:depth] if i >= 0] for q, row in zip(retrieval.queries, indices)}
        out = folder / f"mteb-{depth}"
        tasks = [to_mteb(retrieval, "Q", top_ranked=top)] + ([to_mteb(rows, "R")] if depth == depths[0] else [])
        result = mteb.evaluate(model, tasks, cache=None, show_progress_bar=False, prediction_folder=out)
        scores.update({r.task_name: r.scores["test"][0] for r in result.task_results})
        staged = runs[f"{default_model()} >> {cross_encoder}@{depth}"].tasks[0]
        names = [f"{m}_at_{k}" for m in ("ndcg", "map", "recall", "mrr", "precision") for k in (1, 3, 5, 10)]
        diff = max(abs(scores["Q"][n] - staged.scores[n.replace("_at_", "@")]) for n in names)
        pairs, pair_diff = _pair_diff(out / "Q_predictions.json", retrieval.queries, retrieval.corpus, cross_encoder)
        lines.append(f"| two-stage retrieval | {depth} | {pairs:,} | {pair_diff:.1e} | {len(names)} | {diff:.1e} |")
    alone = runs[str(cross_encoder)].tasks[0]
    pairs, pair_diff = _pair_diff(folder / f"mteb-{depths[0]}" / "R_predictions.json", None, None, cross_encoder, rows)
    diff = max(abs(scores["R"][a] - alone.scores[b]) for a, b in
               [("map_at_1000", "v2.map@1000"), ("mrr_at_10", "v2.mrr@10"), ("ndcg_at_10", "v2.ndcg@10")])
    lines.append(f"| reranking rows | – | {pairs:,} | {pair_diff:.1e} | 3 | {diff:.1e} |")
    return lines


def _pair_diff(path: Path, queries, corpus, cross_encoder: Path, rows=None) -> tuple[int, float]:
    """mteb's saved pair scores against embedlab's PairStore on the same pairs."""
    from embedlab.embedding.pairs import PairStore
    from embedlab.models.base import ModelOptions
    from embedlab.models.cross_encoder import CrossEncoderScorer

    predicted = json.loads(path.read_text(encoding="utf-8"))["default"]["test"]
    if rows is not None:  # mteb's ids for reranking rows: test_query<i>, apositive/negative_<qid>_<j>
        queries, corpus = {}, {}
        for i, row in enumerate(rows.rows):
            qid = f"test_query{i}"
            queries[qid] = row.query
            names = [f"apositive_{qid}_{j:05d}" for j in range(len(row.positives))] + \
                [f"negative_{qid}_{j:05d}" for j in range(len(row.negatives))]
            corpus.update(zip(names, row.candidates))
    keys = [(q, d) for q, docs in predicted.items() for d in docs]
    store = PairStore(CrossEncoderScorer(str(cross_encoder), ModelOptions(device="cpu")), progress=False)
    ours = store.scores([(queries[q], corpus[d]) for q, d in keys])
    return len(keys), float(np.max(np.abs(ours - np.array([predicted[q][d] for q, d in keys]))))


def throughput(cross_encoder: Path, retrieval, depths, batch_size: int, repeat: int) -> list[str]:
    from sentence_transformers import CrossEncoder

    from embedlab.demo import default_model
    from embedlab.embedding.pairs import PairStore
    from embedlab.embedding.store import EmbeddingStore
    from embedlab.models.base import ModelOptions
    from embedlab.models.cross_encoder import CrossEncoderScorer
    from embedlab.models.registry import load_model
    from embedlab.scorers import DenseScorer, TwoStage

    indices, _ = DenseScorer(EmbeddingStore(load_model(default_model()), progress=False)).ranking(retrieval, max(depths))
    queries, documents = list(retrieval.queries.values()), list(retrieval.corpus.values())
    pairs = [(queries[q], documents[d]) for q, row in enumerate(indices) for d in row if d >= 0]
    reference = CrossEncoder(str(cross_encoder), device="cpu")
    scorer = CrossEncoderScorer(str(cross_encoder), ModelOptions(device="cpu", batch_size=batch_size))
    reference.predict(pairs[:batch_size], batch_size=batch_size)  # warm-up, for neither side
    times = {"embedlab": [], "predict": []}
    for _ in range(repeat):
        start = time.perf_counter()
        ours = PairStore(scorer, batch_size=batch_size, progress=False).scores(pairs)
        times["embedlab"].append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs = reference.predict(pairs, batch_size=batch_size, show_progress_bar=False)
        times["predict"].append(time.perf_counter() - start)
    ours_s, theirs_s = statistics.median(times["embedlab"]), statistics.median(times["predict"])
    lines = ["| what | pairs | embedlab (s) | `CrossEncoder.predict` (s) | embedlab pairs/s | predict pairs/s "
             "| embedlab / predict time |",
             "|---|---|---|---|---|---|---|",
             f"| depth {max(depths)}, {len(queries)} queries | {len(pairs):,} | {ours_s:.2f} | {theirs_s:.2f} | "
             f"{len(pairs) / ours_s:,.0f} | {len(pairs) / theirs_s:,.0f} | **{ours_s / theirs_s:.2f}x** |"]
    several = sum(int((row[:d] >= 0).sum()) for d in depths for row in indices)

    class Ranked:  # the first stage's ranking, computed above: only the reranking is timed
        def ranking(self, task, depth):
            return indices[:, :depth], np.zeros(indices[:, :depth].shape, np.float32)

    start = time.perf_counter()
    TwoStage(Ranked(), PairStore(scorer, batch_size=batch_size, progress=False), depths).reranked(retrieval)
    once = time.perf_counter() - start
    start = time.perf_counter()
    for depth in depths:
        reference.predict([(queries[q], documents[d]) for q, row in enumerate(indices) for d in row[:depth] if d >= 0],
                          batch_size=batch_size, show_progress_bar=False)
    per_depth = time.perf_counter() - start
    lines.append(f"| depths {','.join(map(str, depths))}: each pair once (embedlab `TwoStage`) vs a "
                 f"`predict` per depth | {len(pairs):,} vs {several:,} | {once:.2f} | {per_depth:.2f} | | | "
                 f"**{once / per_depth:.2f}x** |")
    lines.append("")
    lines.append(f"max abs diff of the scores of both sides: {float(np.max(np.abs(ours - theirs))):.1e}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60, help="reranking rows sampled")
    parser.add_argument("--queries", type=int, default=60, help="retrieval queries sampled")
    parser.add_argument("--max-length", type=int, default=128, help="the cross-encoder's max tokens per pair")
    parser.add_argument("--depths", default="10,30", help="rerank depths, comma-separated")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    import datasets

    datasets.disable_progress_bars()
    rows, retrieval = load(args)
    with tempfile.TemporaryDirectory() as tmp:
        cross_encoder = make_cross_encoder(Path(tmp), args.max_length)
        print(f"machine: {machine('torch', 'sentence-transformers', 'mteb')}; cross-encoder max length "
              f"{args.max_length}\n")
        print(f"### Parity: {len(rows.rows)} xquad_r_zh reranking rows; paragraph retrieval, {len(retrieval.queries)} "
              f"queries x {len(retrieval.corpus)} documents, depths {args.depths}\n")
        print("\n".join(parity(cross_encoder, rows, retrieval, depths, Path(tmp))))
        print(f"\n### Throughput: batch size {args.batch_size}, median of {args.repeat}\n")
        print("\n".join(throughput(cross_encoder, retrieval, depths, args.batch_size, args.repeat)))


if __name__ == "__main__":
    main()
