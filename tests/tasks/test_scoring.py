"""Task scoring end to end from vectors, checked against pytrec_eval / sklearn / mteb's id scheme."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.data import load_reranking, load_retrieval
from embedlab.embedding.store import EmbeddingStore
from embedlab.metrics import all_metrics
from embedlab.scorers import DenseScorer
from embedlab.tasks.scoring import score_reranking, score_retrieval

pytrec_eval = pytest.importorskip("pytrec_eval")
sklearn_metrics = pytest.importorskip("sklearn.metrics")


def test_reranking_both_semantics_against_references(rerank_file, fake_encoder):
    task = load_reranking(rerank_file)
    store = EmbeddingStore(fake_encoder, progress=False)
    queries, docs = store.embed(task.texts("query"), "query"), store.embed(task.texts("document"), "document")
    ours = score_reranking(task, DenseScorer(store).candidate_scores(task))

    qrels, run, start = {}, {}, 0
    for i, row in enumerate(task.rows):
        qid = f"test_query{i}"
        ids = [f"apositive_{qid}_{j:05d}" for j in range(len(row.positives))] + \
              [f"negative_{qid}_{j:05d}" for j in range(len(row.negatives))]
        cos = docs[start:start + len(ids)] @ queries[i]
        start += len(ids)
        qrels[qid] = {d: int(d.startswith("apositive")) for d in ids}
        run[qid] = {d: float(s) for d, s in zip(ids, cos)}
        relevant = [1] * len(row.positives) + [0] * len(row.negatives)
        assert ours["v1.map"][i] == pytest.approx(sklearn_metrics.average_precision_score(relevant, cos))
    reference = pytrec_eval.RelevanceEvaluator(qrels, {"map_cut.1000", "ndcg_cut.10"}).evaluate(run)
    for i in range(len(task.rows)):
        assert ours["v2.map@1000"][i] == pytest.approx(reference[f"test_query{i}"]["map_cut_1000"], abs=1e-9)
        assert ours["v2.ndcg@10"][i] == pytest.approx(reference[f"test_query{i}"]["ndcg_cut_10"], abs=1e-9)


def test_reranking_ties_follow_each_semantics():
    """A positive tied with a negative: v1 (stable sort, positives listed first) ranks the positive
    first; mteb 2 (descending id: 'negative_…' > 'apositive_…') ranks the negative first."""
    from embedlab.tasks import RerankingTask, RerankRow

    task = RerankingTask("t", [RerankRow("r", "q", ("same text",), ("same text", "other"))])
    queries = np.array([[1.0, 0.0]], dtype=np.float32)
    docs = np.array([[0.6, 0.8], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    scores = score_reranking(task, docs @ queries[0])
    assert scores["v1.mrr@10"][0] == 1.0
    assert scores["v2.mrr@10"][0] == 0.5
    assert scores["v1.map"][0] == pytest.approx(0.5)  # tie block {pos, neg}: precision 1/2
    assert scores["v2.map@1000"][0] == pytest.approx(0.5)


def test_retrieval_against_pytrec_eval_on_the_full_ranking(retrieval_dir, fake_encoder):
    task = load_retrieval(retrieval_dir)
    store = EmbeddingStore(fake_encoder, progress=False)
    docs = store.embed(task.texts("document"), "document")
    queries = store.embed(task.texts("query"), "query")
    metrics = all_metrics((1, 3, 5, 10))
    ranked, _ = DenseScorer(store).ranking(task, 1000)
    ours = score_retrieval(task, ranked, metrics)
    run = {qid: {d: float(s) for d, s in zip(task.corpus, docs @ queries[i])}
           for i, qid in enumerate(task.queries)}
    reference = pytrec_eval.RelevanceEvaluator(task.qrels, {"ndcg_cut.1,3,5,10", "recall.1,3,5,10"}
                                               ).evaluate(run)
    for i, qid in enumerate(task.queries):
        for k in (1, 3, 5, 10):
            assert ours[f"ndcg@{k}"][i] == pytest.approx(reference[qid][f"ndcg_cut_{k}"], abs=1e-9)
            assert ours[f"recall@{k}"][i] == pytest.approx(reference[qid][f"recall_{k}"], abs=1e-9)


def test_a_shorter_ranking_padded_with_minus_one_scores_as_pytrec_eval(retrieval_dir):
    """A ranker may return fewer documents than asked (-1 pads): they count as not retrieved."""
    task = load_retrieval(retrieval_dir)
    ids = list(task.corpus)
    ranked = np.full((len(task.queries), 5), -1, dtype=np.int64)
    ranked[:, :2] = [[ids.index("d2"), ids.index("d1")], [ids.index("d5"), ids.index("d6")],
                     [ids.index("d4"), ids.index("d3")]]
    ours = score_retrieval(task, ranked, all_metrics((1, 3, 5)))
    run = {qid: {ids[j]: float(10 - r) for r, j in enumerate(ranked[i]) if j >= 0}
           for i, qid in enumerate(task.queries)}
    reference = pytrec_eval.RelevanceEvaluator(task.qrels, {"ndcg_cut.1,3,5", "recall.5", "P.5"}).evaluate(run)
    for i, qid in enumerate(task.queries):
        assert ours["ndcg@5"][i] == pytest.approx(reference[qid]["ndcg_cut_5"], abs=1e-9)
        assert ours["recall@5"][i] == pytest.approx(reference[qid]["recall_5"], abs=1e-9)
        assert ours["precision@5"][i] == pytest.approx(reference[qid]["P_5"], abs=1e-9)
    assert ours["recall@5"].tolist() == [1.0, 0.0, 1.0]  # q2: its relevant d3 was not retrieved
