"""BM25 as a model: the registry name, settings, ranking (trec tie order), reranking rows over one index,
index reuse across tasks and runs."""

from __future__ import annotations

import numpy as np
import pytest

import embedlab
from embedlab.data import load_reranking, load_retrieval
from embedlab.errors import ModelError, UnknownNameError
from embedlab.models.base import ModelOptions, Ranker
from embedlab.models.bm25 import BM25
from embedlab.models.bm25_index import Settings, build
from embedlab.models.registry import backend_class, backend_of, load_model
from embedlab.run.evaluation import RunOptions
from embedlab.scorers import RankerScorer
from tests.conftest import write_beir

pytest.importorskip("bm25s")


def test_bm25_alone_and_with_a_tokenizer_are_registry_names():
    assert backend_of("bm25") == "bm25" and backend_of("bm25:char") == "bm25"
    assert backend_of("./bm25") == "st"
    model = load_model("bm25")
    assert isinstance(model, BM25) and model.name == "bm25" and model.settings.tokenizer == "auto"
    shortcut = load_model("bm25:word", ModelOptions(bm25_k1=1.2, bm25_b=0.5))
    assert shortcut.name == "bm25:word" and shortcut.settings == Settings(tokenizer="word", k1=1.2, b=0.5)


def test_an_unknown_tokenizer_in_the_name_fails_before_any_model_loads():
    with pytest.raises(UnknownNameError, match="unknown BM25 tokenizer 'chars'; did you mean 'char'"):
        backend_class("bm25:chars")
    with pytest.raises(UnknownNameError):
        BM25("", ModelOptions(bm25_tokenizer="jieba"))


def test_the_tokenizer_in_the_name_wins_over_the_option():
    assert BM25("word", ModelOptions(bm25_tokenizer="char")).settings.tokenizer == "word"
    assert BM25("", ModelOptions(bm25_tokenizer="char")).settings.tokenizer == "char"
    with pytest.raises(ModelError, match="0 <= b <= 1"):
        BM25("", ModelOptions(bm25_b=1.5))


def test_info_records_every_setting_and_the_tokenizer_auto_chose():
    model = BM25("", ModelOptions(bm25_k1=1.2))
    model.rank({"q": "黑豹队的防守"}, {"d1": "黑豹队的防守只丢了308分", "d2": "职业碗"}, 2)
    info = model.info()
    assert {k: info[k] for k in ("name", "backend", "tokenizer", "tokenizer_used", "k1", "b", "method")} == \
        {"name": "bm25", "backend": "bm25s", "tokenizer": "auto", "tokenizer_used": "char", "k1": 1.2, "b": 0.75,
         "method": "lucene"}
    assert info["bm25s"] and "jieba" not in info
    assert "jieba" in BM25("word").info()


def test_rank_gives_the_top_by_score_with_ties_to_the_higher_id():
    corpus = {"b": "tea", "c": "tea", "a": "tea", "x": "coffee", "y": "green tea with more words in it"}
    model = BM25("whitespace")
    idx, scores = model.rank({"q1": "tea", "q2": "coffee"}, corpus, 10)
    ids = list(corpus)
    assert idx.shape == scores.shape == (2, 5)
    assert [ids[i] for i in idx[0][:3]] == ["c", "b", "a"] and ids[idx[0][3]] == "y"
    assert scores[0][0] == scores[0][1] == scores[0][2] > scores[0][3] > 0 == scores[0][4]
    assert ids[idx[1][0]] == "x" and [ids[i] for i in idx[1][1:]] == ["y", "c", "b", "a"]  # zero scores: by id


def test_rank_to_a_depth_and_with_nothing_to_rank():
    model = BM25("whitespace")
    idx, scores = model.rank({"q": "tea"}, {"d1": "tea", "d2": "coffee"}, 1)
    assert idx.tolist() == [[0]]
    idx, _ = model.rank({}, {"d1": "tea"}, 5)
    assert idx.shape == (0, 1)


def test_rows_are_scored_on_one_index_over_every_rows_candidates():
    queries = ["green tea", "bicycle tyre"]
    candidates = [["green tea leaves", "black tea"], ["bicycle tyre patch", "green bicycle", "tea"]]
    model = BM25("whitespace")
    scores = model.score_rows(queries, candidates)
    union = build(["\n" + t for row in candidates for t in row], Settings(tokenizer="whitespace"))
    expected = np.concatenate([union.retriever.get_scores(q.split())[s:e] for q, (s, e) in
                               zip(queries, [(0, 2), (2, 5)])])
    assert np.array_equal(scores, expected)
    alone = build(["\n" + t for t in candidates[1]], Settings(tokenizer="whitespace")).retriever.get_scores(
        ["bicycle", "tyre"])
    assert not np.allclose(scores[2:], alone)  # IDF over the union, not over the row
    assert model.score_rows([], []).shape == (0,)


def test_a_reranking_task_is_scored_with_the_union_index(rerank_file):
    task = load_reranking(rerank_file)
    model = BM25("whitespace")
    scorer = RankerScorer(model)
    expected = model.score_rows([r.query for r in task.rows], [r.candidates for r in task.rows])
    assert np.array_equal(scorer.candidate_scores(task), expected)
    # the default of every ranker: each row's candidates ranked as a corpus of their own
    per_row = Ranker.score_rows(BM25("whitespace"), [r.query for r in task.rows], [r.candidates for r in task.rows])
    assert per_row.shape == expected.shape and not np.allclose(per_row, expected)


def test_an_index_is_built_once_per_corpus_in_a_run(retrieval_dir, tmp_path):
    first = load_retrieval(retrieval_dir)
    other_queries = write_beir(tmp_path / "other", first.corpus, {"q9": "green tea"}, [("q9", "d1", 1)])
    model = BM25()
    results = embedlab.evaluate(model, [first, load_retrieval(other_queries)])
    assert model.indexes.built == 1 and model.indexes.loaded == 0
    assert [len(t.per_query["ndcg@10"]) for t in results.runs[0].tasks] == [3, 1]
    assert results.runs[0].tasks[1].scores["ndcg@10"] == 1.0


def test_with_a_cache_the_next_run_reads_the_index(retrieval_dir, tmp_path):
    cache = tmp_path / "cache" / "embeddings.sqlite"
    task = load_retrieval(retrieval_dir)
    first, second = BM25(), BM25()
    one = embedlab.evaluate(first, [task], run=RunOptions(cache=cache))
    two = embedlab.evaluate(second, [task], run=RunOptions(cache=cache))
    assert (first.indexes.built, second.indexes.built, second.indexes.loaded) == (1, 0, 1)
    assert [p.name[:5] for p in (tmp_path / "cache" / "indexes").iterdir()] == ["bm25-"]
    assert one.runs[0].tasks[0].scores == two.runs[0].tasks[0].scores
    third = BM25()
    embedlab.evaluate(third, [task])  # no cache asked: nothing read, nothing written
    assert (third.indexes.built, third.indexes.loaded) == (1, 0)


def test_close_releases_the_indexes():
    model = BM25("whitespace")
    model.rank({"q": "tea"}, {"d": "tea"}, 1)
    model.close()
    assert not model.indexes.memory
