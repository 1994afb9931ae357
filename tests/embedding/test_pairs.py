"""PairStore: a pair is scored once per run, grouped by query, checked, and committed to the cache as answers
arrive (a rerun sends nothing; an interrupted run pays again only for what was in flight)."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.embedding.cache import EmbeddingCache
from embedlab.embedding.pairs import PairStore
from embedlab.errors import ModelError
from embedlab.models.base import PairScorer


class CountingPairs(PairScorer):
    """Score = overlap of characters; records every batch it is asked to score."""

    name = "counting-pairs"

    def __init__(self, fail_after: int | None = None, bad: str | None = None) -> None:
        self.batches: list[list[tuple[str, str]]] = []
        self.fail_after, self.bad = fail_after, bad

    def score_pairs(self, pairs):
        if self.fail_after is not None and len(self.batches) >= self.fail_after:
            raise RuntimeError("killed")
        self.batches.append(list(pairs))
        scores = np.array([len(set(q) & set(d)) / (1 + len(set(d))) for q, d in pairs], dtype=np.float32)
        if self.bad == "nan":
            scores[0] = np.nan
        elif self.bad == "short":
            scores = scores[:-1]
        return scores

    @property
    def sent(self) -> list[tuple[str, str]]:
        return [p for batch in self.batches for p in batch]


PAIRS = [("tea", "green tea"), ("tea", "black tea"), ("bike", "oil the chain"), ("tea", "green tea"),
         ("bike", "patch the tube"), ("tea", "coffee")]


def test_each_pair_is_scored_once_and_grouped_by_query():
    model = CountingPairs()
    store = PairStore(model, batch_size=2, progress=False)
    first = store.scores(PAIRS)
    again = store.scores(PAIRS[:3])
    np.testing.assert_array_equal(first[:3], again)
    assert sorted(model.sent) == sorted(set(PAIRS)) and len(model.sent) == 5
    queries = [q for q, _ in model.sent]
    assert queries == sorted(queries, key=queries.index)  # every query's pairs together
    assert store.stats.as_dict()["pairs_scored"] == 5 and store.stats.requested == 9


def test_a_rerun_sends_nothing_and_an_interrupted_run_resumes(tmp_path):
    path = tmp_path / "cache.sqlite"
    killed = CountingPairs(fail_after=1)
    with pytest.raises(RuntimeError):
        PairStore(killed, batch_size=2, progress=False, cache=EmbeddingCache(path)).scores(PAIRS)
    resumed = CountingPairs()
    store = PairStore(resumed, batch_size=2, progress=False, cache=EmbeddingCache(path))
    scores = store.scores(PAIRS)
    assert len(resumed.sent) == 5 - 2 and not set(resumed.sent) & set(killed.sent)  # only what was missing
    rerun = CountingPairs()
    again = PairStore(rerun, batch_size=2, progress=False, cache=EmbeddingCache(path))
    np.testing.assert_array_equal(again.scores(PAIRS), scores)
    assert rerun.sent == [] and again.stats.cache_hits == 5
    assert again.missing(PAIRS + [("tea", "new")]) == [("tea", "new")]


def test_the_cache_keeps_scores_apart_per_model_key(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    cache.put_scores("a", [("q", "d")], np.array([0.25], np.float32))
    assert cache.get_scores("a", [("q", "d"), ("q", "e")]) == {("q", "d"): 0.25}
    assert cache.get_scores("b", [("q", "d")]) == {}
    assert cache.get_scores("a", [("qd", "")]) == {}  # the pair's parts are not run together
    assert any(row.get("pair_scores") == 1 for row in cache.stats())
    assert cache.clear("a") == 1 and cache.get_scores("a", [("q", "d")]) == {}


@pytest.mark.parametrize("bad,match", [("nan", "NaN/inf for 1 pair"), ("short", "shape .* expected one score per pair")])
def test_bad_scores_are_one_line_errors(bad, match):
    with pytest.raises(ModelError, match=match) as caught:
        PairStore(CountingPairs(bad=bad), progress=False).scores(PAIRS)
    assert "\n" not in str(caught.value)


def test_only_a_pair_scorer_has_a_pair_store(fake_encoder):
    with pytest.raises(ModelError, match="does not score .* pairs"):
        PairStore(fake_encoder)


def test_progress_lines_name_the_reranker(monkeypatch, capsys):
    monkeypatch.setenv("EMBEDLAB_PROGRESS_SECONDS", "0")
    PairStore(CountingPairs(), batch_size=2, progress=True).scores(PAIRS)
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("reranking pairs with counting-pairs: ") for line in lines)
