"""Two-stage retrieval (scorers.TwoStage through evaluate): each pair scored once across depths, the first
stage ranked once, a document the first stage missed never credited, trec tie order, clear bad input."""

from __future__ import annotations

import numpy as np
import pytest

import embedlab
from embedlab.errors import EmbedlabError, ModelError
from embedlab.models.base import PairScorer, Ranker
from embedlab.results.compare import compare
from embedlab.run.evaluation import RunOptions
from tests.conftest import FakeEncoder
from tests.embedding.test_pairs import CountingPairs


class ListRanker(Ranker):
    """Ranks each query's corpus in a fixed order of document ids (missing ids are not returned)."""

    name = "list-ranker"

    def __init__(self, order: list[str]) -> None:
        self.order, self.calls = order, 0

    def rank(self, queries, corpus, depth):
        self.calls += 1
        ids = list(corpus)
        found = [ids.index(d) for d in self.order if d in corpus][:depth]
        idx = np.full((len(queries), depth), -1, dtype=np.int64)
        idx[:, :len(found)] = found
        scores = np.where(idx >= 0, -np.arange(depth, dtype=np.float32), 0)
        return idx, scores.astype(np.float32)


class Oracle(PairScorer):
    """The number of the query's words of 3 letters or more that the passage holds (many pairs tie)."""

    name = "oracle"

    def score_pairs(self, pairs):
        return np.array([sum(w in d for w in q.split() if len(w) >= 3) for q, d in pairs], dtype=np.float32)


def _runs(results):
    return {run.model["name"]: run for run in results.runs}


def test_each_pair_is_scored_once_across_depths(retrieval_dir):
    reranker = CountingPairs()
    results = embedlab.evaluate(FakeEncoder(), [retrieval_dir], run=RunOptions(reranker=reranker,
                                                                               rerank_depths=(2, 4, 6)))
    assert len(reranker.sent) == len(set(reranker.sent)) == 3 * 6  # 3 judged queries x the deepest depth
    runs = _runs(results)
    assert list(runs) == ["fake-bigram", "fake-bigram >> counting-pairs@2", "fake-bigram >> counting-pairs@4",
                          "fake-bigram >> counting-pairs@6"]
    deep = runs["fake-bigram >> counting-pairs@6"]
    assert deep.model["rerank_depth"] == 6 and deep.model["first_stage"] == "fake-bigram"
    assert deep.model["reranker"] == "counting-pairs" and deep.model["backend"] == "two-stage"
    assert deep.model["first_stage_recall"]["beir"] == pytest.approx(1.0)
    counts = [runs[f"fake-bigram >> counting-pairs@{d}"].tasks[0].counts for d in (2, 4, 6)]
    assert [c["rerank_pairs"] for c in counts] == [6, 12, 18] and counts[-1]["rerank_pairs_scored"] == 18
    assert runs["fake-bigram >> counting-pairs@2"].tasks[0].timings["rerank_ms_per_query"] >= 0


def test_the_first_stage_ranks_once_and_its_run_is_unchanged(retrieval_dir):
    ranker = ListRanker(["d6", "d5", "d4", "d3", "d2", "d1"])
    alone = embedlab.evaluate(ListRanker(ranker.order), [retrieval_dir])
    results = embedlab.evaluate(ranker, [retrieval_dir], run=RunOptions(reranker=Oracle(), rerank_depths=(3, 6)))
    assert ranker.calls == 1
    assert _runs(results)["list-ranker"].tasks[0].per_query == alone.runs[0].tasks[0].per_query


def test_a_document_the_first_stage_missed_is_never_credited(retrieval_dir):
    # the first stage never returns d1 (q1's best document) nor d4 (q3's only one); the oracle would rank them first
    results = embedlab.evaluate(ListRanker(["d6", "d5", "d3", "d2"]), [retrieval_dir],
                                run=RunOptions(reranker=Oracle(), rerank_depths=(3, 5)))
    runs = _runs(results)
    first = runs["list-ranker"].tasks[0]
    for depth in (3, 5):
        staged = runs[f"list-ranker >> oracle@{depth}"]
        task = staged.tasks[0]
        assert task.per_query["recall@10"] == first.per_query[f"recall@{depth}"]  # the ceiling, never above
        assert staged.model["first_stage_recall"]["beir"] == pytest.approx(np.mean(first.per_query[f"recall@{depth}"]))
    q3 = first.query_ids.index("q3")
    assert runs["list-ranker >> oracle@5"].tasks[0].per_query["ndcg@10"][q3] == 0.0
    q1 = first.query_ids.index("q1")  # d2 (grade 1) is returned and put first; d1 (grade 2) stays missing
    assert runs["list-ranker >> oracle@5"].tasks[0].per_query["ndcg@1"][q1] == pytest.approx(0.5)


def test_ties_of_the_reranker_follow_the_trec_order(retrieval_dir):
    class Flat(PairScorer):
        name = "flat"

        def score_pairs(self, pairs):
            return np.zeros(len(pairs), dtype=np.float32)

    from embedlab.data import load_retrieval
    from embedlab.embedding.pairs import PairStore
    from embedlab.embedding.store import EmbeddingStore
    from embedlab.scorers import DenseScorer, TwoStage

    task = load_retrieval(retrieval_dir)
    stack = TwoStage(DenseScorer(EmbeddingStore(FakeEncoder(), progress=False)),
                     PairStore(Flat(), progress=False), (4,))
    idx, scores = stack.at(4).ranking(task, 1000)
    ids = list(task.corpus)
    for row in idx:  # every score ties: higher document id first, as trec_eval and mteb order them
        shown = [ids[i] for i in row]
        assert shown == sorted(shown, reverse=True) and len(shown) == 4
    assert (scores == 0).all()


def test_a_first_stage_that_returns_fewer_documents_is_padded(retrieval_dir):
    results = embedlab.evaluate(ListRanker(["d3", "d1"]), [retrieval_dir],
                                run=RunOptions(reranker=Oracle(), rerank_depths=(4,)))
    staged = _runs(results)["list-ranker >> oracle@4"]
    assert staged.tasks[0].counts["rerank_pairs"] == 3 * 2


def test_the_reranker_alone_scores_reranking_rows(rerank_file, retrieval_dir):
    from tests.scorers.test_kinds import CosinePairs

    results = embedlab.evaluate(FakeEncoder(), [rerank_file, retrieval_dir],
                                run=RunOptions(reranker=CosinePairs(), rerank_depths=(3,)))
    runs = _runs(results)
    assert [t.task for t in runs["cosine-pairs"].tasks] == ["rerank"]
    assert [t.task for t in runs["fake-bigram >> cosine-pairs@3"].tasks] == ["beir"]
    np.testing.assert_allclose(runs["cosine-pairs"].tasks[0].per_query["v1.map"],
                               runs["fake-bigram"].tasks[0].per_query["v1.map"], atol=1e-6)
    beir = next(c for c in compare(results) if c.task == "beir")
    assert [r.model for r in beir.rows] == ["fake-bigram", "fake-bigram >> cosine-pairs@3"]


def test_bad_two_stage_input_is_one_line(retrieval_dir, fake_encoder):
    with pytest.raises(EmbedlabError, match=r"--rerank-depth 7 is larger than the corpus of beir \(6 documents\)"):
        embedlab.evaluate(fake_encoder, [retrieval_dir], run=RunOptions(reranker=Oracle(), rerank_depths=(3, 7)))
    with pytest.raises(EmbedlabError, match="--rerank-depth needs a --reranker"):
        embedlab.evaluate(fake_encoder, [retrieval_dir], run=RunOptions(rerank_depths=(3,)))
    with pytest.raises(ModelError, match="'fake-bigram' is not a reranker"):
        embedlab.evaluate(fake_encoder, [retrieval_dir], run=RunOptions(reranker=FakeEncoder(), rerank_depths=(3,)))
    with pytest.raises(EmbedlabError, match="larger than the corpus .* give depths up to 6"):
        embedlab.evaluate(fake_encoder, [retrieval_dir], run=RunOptions(reranker=Oracle()))  # the default, 100


def test_a_local_cross_encoder_reranks(retrieval_dir, tiny_cross_encoder):
    results = embedlab.evaluate(FakeEncoder(), [retrieval_dir],
                                run=RunOptions(reranker=str(tiny_cross_encoder), rerank_depths=(5,)))
    staged = results.runs[1]
    assert staged.model["name"] == f"fake-bigram >> {tiny_cross_encoder}@5"
    assert staged.model["reranker_model"]["backend"] == "cross-encoder"
    assert staged.tasks[0].counts["rerank_pairs"] == 15
