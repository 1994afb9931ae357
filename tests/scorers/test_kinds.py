"""Every kind of model is scored by the same code: a ranker and a pair scorer that compute exactly what the
dense path computes give exactly its numbers; bad outputs are clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import embedlab
from embedlab.models.base import PairScorer, Ranker
from embedlab.run.evaluation import IncompleteRun
from embedlab.search.exact import top_k
from tests.conftest import FakeEncoder


def _unit(vectors):
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class CosineRanker(Ranker):
    """Ranks with FakeEncoder's cosine and the trec tie order: what DenseScorer does, as a Ranker."""

    name = "cosine-ranker"

    def rank(self, queries, corpus, depth):
        encoder = FakeEncoder()
        ids = list(corpus)
        tie_rank = np.empty(len(ids), dtype=np.int64)
        tie_rank[np.argsort(np.array(ids, dtype=object), kind="stable")] = np.arange(len(ids))
        return top_k(_unit(encoder.encode(list(queries.values()), "query")),
                     _unit(encoder.encode(list(corpus.values()), "document")), depth, tie_rank=tie_rank)


class CosinePairs(PairScorer):
    name = "cosine-pairs"

    def score_pairs(self, pairs):
        encoder = FakeEncoder()
        q = _unit(encoder.encode([a for a, _ in pairs], "query"))
        d = _unit(encoder.encode([b for _, b in pairs], "document"))
        return np.einsum("ij,ij->i", q, d)


def test_a_ranker_and_a_pair_scorer_give_the_dense_numbers(rerank_file, retrieval_dir):
    results = embedlab.evaluate([FakeEncoder(), CosineRanker(), CosinePairs()], [rerank_file])
    dense, ranker, pairs = (run.tasks[0].per_query for run in results.runs)
    for name in dense:
        np.testing.assert_allclose(ranker[name], dense[name], atol=1e-6)
        np.testing.assert_allclose(pairs[name], dense[name], atol=1e-6)
    retrieval = embedlab.evaluate([FakeEncoder(), CosineRanker()], [retrieval_dir])
    assert retrieval.runs[1].tasks[0].per_query == retrieval.runs[0].tasks[0].per_query
    assert retrieval.runs[1].embedding["model_seconds"] >= 0 and "dimension" not in retrieval.runs[1].model


def test_a_pair_scorer_alone_cannot_search_a_corpus(retrieval_dir):
    with pytest.raises(IncompleteRun, match="cannot search a corpus .* use it as a reranker"):
        embedlab.evaluate(CosinePairs(), [retrieval_dir])


class Broken(Ranker):
    name = "broken"

    def __init__(self, mode):
        self.mode = mode

    def rank(self, queries, corpus, depth):
        idx = np.tile(np.arange(depth), (len(queries), 1))
        scores = np.ones(idx.shape, dtype=np.float32)
        if self.mode == "index":
            idx[0, 0] = len(corpus)
        elif self.mode == "nan":
            scores[0, 0] = np.nan
        elif self.mode == "rows":
            idx, scores = idx[:-1], scores[:-1]
        return idx, scores


@pytest.mark.parametrize("mode,match", [("index", "index outside"), ("nan", "NaN"), ("rows", "shapes")])
def test_bad_rankings_are_clear_errors(retrieval_dir, mode, match):
    with pytest.raises(IncompleteRun, match=match) as caught:
        embedlab.evaluate(Broken(mode), [retrieval_dir])
    assert caught.value.results.runs == []  # the only task failed: nothing to keep
