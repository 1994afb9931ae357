"""BM25 indexes: bm25s's scores (checked by hand on a tiny corpus), ranges, and the store that builds each
index once and keeps it on disk."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from embedlab.models.bm25_index import IndexStore, Settings, build, corpus_hash, index_key

pytest.importorskip("bm25s")
CORPUS = ["a b", "a a c", "b c c d"]
WHITESPACE = Settings(tokenizer="whitespace")


def lucene_bm25(query: list[str], docs: list[list[str]], k1=1.5, b=0.75) -> list[float]:
    """Lucene's BM25 (Kamphuis et al. 2020, the variant bm25s and mteb use): no (k1 + 1) factor."""
    avg = sum(map(len, docs)) / len(docs)
    scores = []
    for doc in docs:
        score = 0.0
        for term in query:
            df = sum(term in d for d in docs)
            tf = doc.count(term)
            if tf:
                idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
                score += idf * tf / (tf + k1 * (1 - b + b * len(doc) / avg))
        scores.append(score)
    return scores


@pytest.mark.parametrize("query", ["a c", "c c d", "a b c d", "zzz"])
@pytest.mark.parametrize("k1,b", [(1.5, 0.75), (0.9, 0.4), (2.0, 1.0)])
def test_scores_are_lucene_bm25(query, k1, b):
    index = build(CORPUS, Settings(tokenizer="whitespace", k1=k1, b=b))
    expected = lucene_bm25(query.split(), [d.split() for d in CORPUS], k1, b)
    assert index.scores_between(query, 0, 3) == pytest.approx(expected, abs=1e-6)
    docs, scores = index.top([query], 3)
    assert scores[0] == pytest.approx(sorted(expected, reverse=True), abs=1e-6)
    assert index.tokenizer == "whitespace" and index.size == 3


def test_scores_of_a_range_equal_bm25s_get_scores_exactly():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    corpus = [" ".join(rng.choice(words, size=rng.integers(1, 12))) for _ in range(300)]
    index = build(corpus, WHITESPACE)
    for _ in range(20):
        query = " ".join(rng.choice(words + ["unknown"], size=5))
        full = index.retriever.get_scores(query.split())
        start = int(rng.integers(0, 290))
        stop = int(rng.integers(start, 301))
        assert np.array_equal(index.scores_between(query, start, stop), full[start:stop])


def test_a_corpus_without_any_token_is_a_clear_error():
    from embedlab.errors import ModelError

    with pytest.raises(ModelError, match="no document"):
        build(["  ", ""], WHITESPACE)


def test_the_key_changes_with_the_corpus_order_content_and_settings():
    key = index_key(CORPUS, WHITESPACE)
    assert key == index_key(list(CORPUS), Settings(tokenizer="whitespace"))
    assert key != index_key(CORPUS[::-1], WHITESPACE)
    assert key != index_key(["a b", "a a c", "b c c e"], WHITESPACE)
    assert key != index_key(CORPUS, Settings(tokenizer="whitespace", k1=1.2))
    assert key != index_key(CORPUS, Settings(tokenizer="char"))
    assert corpus_hash(["ab", "c"]) != corpus_hash(["a", "bc"])


def test_the_store_builds_an_index_once(monkeypatch):
    store = IndexStore()
    first = store.get(CORPUS, WHITESPACE)
    assert store.get(list(CORPUS), WHITESPACE) is first
    assert store.built == 1 and store.loaded == 0
    store.get(CORPUS, Settings(tokenizer="whitespace", b=0.5))
    assert store.built == 2


def test_a_store_with_a_folder_saves_and_the_next_one_loads(tmp_path):
    store = IndexStore(tmp_path)
    built = store.get(CORPUS, WHITESPACE)
    saved = list(tmp_path.iterdir())
    assert [p.name for p in saved] == [f"bm25-{index_key(CORPUS, WHITESPACE)}"]  # no partial folder left
    assert json.loads((saved[0] / "embedlab-bm25.json").read_text())["tokenizer"] == "whitespace"
    again = IndexStore(tmp_path)
    loaded = again.get(CORPUS, WHITESPACE)
    assert (again.built, again.loaded) == (0, 1)
    assert np.array_equal(loaded.scores_between("a c d", 0, 3), built.scores_between("a c d", 0, 3))
    assert loaded.tokenizer == "whitespace"


def test_an_incomplete_or_damaged_saved_index_is_built_again(tmp_path):
    store = IndexStore(tmp_path)
    store.get(CORPUS, WHITESPACE)
    folder = store.path(index_key(CORPUS, WHITESPACE))
    (folder / "embedlab-bm25.json").unlink()  # as if killed before the manifest was written
    again = IndexStore(tmp_path)
    again.get(CORPUS, WHITESPACE)
    assert (again.built, again.loaded) == (1, 0)
    (folder / "data.csc.index.npy").write_bytes(b"not numpy")
    third = IndexStore(tmp_path)
    assert third.get(CORPUS, WHITESPACE).scores_between("a c", 0, 3) == pytest.approx(lucene_bm25(
        ["a", "c"], [d.split() for d in CORPUS]), abs=1e-6)
    assert (third.built, third.loaded) == (1, 0)


def test_an_unwritable_folder_only_costs_the_saving(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = IndexStore(blocker / "indexes")
    assert store.get(CORPUS, WHITESPACE).size == 3
    assert "not saved" in caplog.text
