"""Slow: embedlab's BM25 and mteb 2.x's `mteb/baseline-bm25s` give the same scores on the shared real data
(xquad_r_zh as Chinese: char tokenizer; cranfield_en as English: word tokenizer), document by document."""

from __future__ import annotations

import pytest

import embedlab
from embedlab.data import load_reranking, load_retrieval
from embedlab.models.base import ModelOptions
from embedlab.models.bm25 import BM25
from embedlab.tasks.mteb import mteb_search, to_mteb
from tests.conftest import SHARED_DATA

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="the shared evaluation data is absent")]
TOL = 1e-6


@pytest.fixture(scope="module")
def mteb_bm25():
    pytest.importorskip("mteb")
    pytest.importorskip("bm25s")
    from mteb.models.model_implementations.bm25 import BM25Search

    return BM25Search


def candidate_position(doc_id: str, positives: int) -> int:
    """A candidate's place in its row from `to_mteb`'s id: apositive_<q>_<i> / negative_<q>_<i>."""
    return int(doc_id.rsplit("_", 1)[1]) + (0 if doc_id.startswith("apositive") else positives)


def test_reranking_scores_equal_mtebs(mteb_bm25):
    task = load_reranking(SHARED_DATA / "xquad_r_zh" / "reranking" / "test.jsonl")
    theirs = mteb_search(mteb_bm25(), task, language="zho-Hans")
    ours = BM25("char").score_rows([row.query for row in task.rows], [row.candidates for row in task.rows])
    start, compared = 0, 0
    for i, row in enumerate(task.rows):
        for doc_id, score in theirs[f"test_query{i}"].items():
            assert ours[start + candidate_position(doc_id, len(row.positives))] == pytest.approx(score, abs=TOL)
            compared += 1
        start += len(row.candidates)
    assert compared > 4000  # mteb keeps each query's top 1000 of the 5,974 candidates: most, not all


@pytest.mark.parametrize("folder,language,tokenizer", [("xquad_r_zh/retrieval_sentence", "zho-Hans", "char"),
                                                       ("cranfield_en/retrieval", "eng-Latn", "word"),
                                                       ("cranfield_en/retrieval", "eng-Latn", "auto")])
def test_retrieval_rankings_equal_mtebs(mteb_bm25, folder, language, tokenizer):
    task = load_retrieval(SHARED_DATA / folder)
    theirs = mteb_search(mteb_bm25(), task, language=language)
    idx, scores = BM25("", ModelOptions(bm25_tokenizer=tokenizer)).rank(task.queries, task.corpus, 1000)
    ids = list(task.corpus)
    for row, qid in enumerate(task.queries):
        ours = {ids[i]: float(s) for i, s in zip(idx[row], scores[row]) if i >= 0}
        assert ours.keys() == theirs[qid].keys()
        assert max(abs(ours[d] - s) for d, s in theirs[qid].items()) <= TOL


def test_metrics_equal_mtebs(mteb_bm25):
    """The default `bm25` (auto: char for xquad_r_zh, word for cranfield_en) scored by embedlab and by mteb;
    for reranking, mteb searches deep enough to score every candidate (its default keeps 1000 of 5,974)."""
    import mteb

    rerank = load_reranking(SHARED_DATA / "xquad_r_zh" / "reranking" / "test.jsonl")
    sentence = load_retrieval(SHARED_DATA / "xquad_r_zh" / "retrieval_sentence")
    cranfield = load_retrieval(SHARED_DATA / "cranfield_en" / "retrieval")
    mteb_tasks = [to_mteb(rerank, "R", language="zho-Hans"), to_mteb(sentence, "S", language="zho-Hans"),
                  to_mteb(cranfield, "C")]
    mteb_tasks[0]._top_k = sum(len(row.candidates) for row in rerank.rows)
    result = mteb.evaluate(mteb.get_model("mteb/baseline-bm25s"), mteb_tasks, cache=None, show_progress_bar=False)
    theirs = {r.task_name: r.scores["test"][0] for r in result.task_results}
    ours = [t.scores for t in embedlab.evaluate("bm25", [rerank, sentence, cranfield]).runs[0].tasks]
    for name in ("map_at_1000", "mrr_at_10", "ndcg_at_10"):
        assert theirs["R"][name] == pytest.approx(ours[0][f"v2.{name.replace('_at_', '@')}"], abs=1e-5)  # 5 places
    for (name, scores) in (("S", ours[1]), ("C", ours[2])):
        for metric in ("ndcg_at_10", "map_at_100", "recall_at_1000", "mrr_at_10", "precision_at_5"):
            assert theirs[name][metric] == pytest.approx(scores[metric.replace("_at_", "@")], abs=1e-5)
