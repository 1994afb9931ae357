"""Task scoring end to end from vectors, checked against pytrec_eval / sklearn / mteb's id scheme."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.data import load_reranking, load_retrieval
from embedlab.embed import EmbeddingStore
from embedlab.errors import UnknownNameError
from embedlab.metrics import all_metrics
from embedlab.tasks.scoring import score_name, score_reranking, score_retrieval

pytrec_eval = pytest.importorskip("pytrec_eval")
sklearn_metrics = pytest.importorskip("sklearn.metrics")


def test_reranking_both_semantics_against_references(rerank_file, fake_encoder):
    task = load_reranking(rerank_file)
    store = EmbeddingStore(fake_encoder, progress=False)
    queries, docs = store.embed(task.texts("query"), "query"), store.embed(task.texts("document"), "document")
    ours = score_reranking(task, queries, docs)

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
    scores = score_reranking(task, queries, docs)
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
    ours = score_retrieval(task, queries, docs, metrics, depth=1000)
    run = {qid: {d: float(s) for d, s in zip(task.corpus, docs @ queries[i])}
           for i, qid in enumerate(task.queries)}
    reference = pytrec_eval.RelevanceEvaluator(task.qrels, {"ndcg_cut.1,3,5,10", "recall.1,3,5,10"}
                                               ).evaluate(run)
    for i, qid in enumerate(task.queries):
        for k in (1, 3, 5, 10):
            assert ours[f"ndcg@{k}"][i] == pytest.approx(reference[qid][f"ndcg_cut_{k}"], abs=1e-9)
            assert ours[f"recall@{k}"][i] == pytest.approx(reference[qid][f"recall_{k}"], abs=1e-9)


def test_score_names_normalise_and_reject():
    assert score_name("NDCG@10") == "ndcg@10"
    assert score_name("v2.MAP@1000") == "v2.map@1000"
    assert score_name("v1.map") == "v1.map"
    with pytest.raises(UnknownNameError):
        score_name("v3.map@10")
