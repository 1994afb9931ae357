"""Likely false negatives: the exclusions (same text, known positives), the margins and score limits as
sentence-transformers defines them, and the second model."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.mining.config import MiningConfig
from embedlab.mining.filters import KnownPositives, filtered
from embedlab.mining.inputs import MiningRow, read_rows
from embedlab.mining.miner import mine_rows
from tests.conftest import FakeEncoder, write_jsonl
from tests.mining.conftest import ANGLES, TableEncoder, rows_of, store_of


def test_margins_match_sentence_transformers_definitions(tmp_path):
    """Every written negative satisfies sentence-transformers' inequalities; every dropped one violates one."""
    rng = np.random.default_rng(0)
    corpus = [f"passage {i}" for i in range(60)]
    angles = {t: float(a) for t, a in zip(corpus, rng.uniform(0.2, 1.6, len(corpus)))}
    rows = [{"query": f"query {i}", "positive": [corpus[i]], "negative": []} for i in range(10)]
    angles.update({f"query {i}": 0.0 for i in range(10)})
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    config = MiningConfig(num_negatives=50, range_max=60, absolute_margin=0.02, relative_margin=0.1,
                          max_score=0.9)
    report = mine_rows(read_rows(path).rows, corpus, store_of(TableEncoder(angles)), tmp_path / "out.jsonl",
                  config=config, with_scores=True)
    written = 0
    for row, source in zip(rows_of(tmp_path / "out.jsonl"), rows):
        positive = np.cos(angles[source["positive"][0]])
        assert row["pos_scores"] == [pytest.approx(positive, abs=1e-6)]
        expected = sorted((t for t in corpus if t != source["positive"][0]
                           if np.cos(angles[t]) + 0.02 <= positive
                           and np.cos(angles[t]) <= positive - abs(positive) * 0.1
                           and np.cos(angles[t]) <= 0.9), key=lambda t: -np.cos(angles[t]))
        assert row["neg"] == expected
        assert row["neg_scores"] == pytest.approx([np.cos(angles[t]) for t in expected], abs=1e-6)
        written += len(expected)
    assert report.negatives_written == written
    assert report.candidates == 10 * 60 and report.excluded_same_text == 10
    assert report.kept_candidates + report.likely_false_negatives + report.excluded_same_text == 600


def test_same_text_and_known_positives_are_never_negatives(tmp_path):
    rows = [{"query": "How to brew tea?", "positive": ["Brew tea at 80 degrees."], "negative": []},
            {"query": "how to  brew tea", "positive": ["Use fresh water for tea."], "negative": []},
            {"query": "coffee", "positive": ["Grind the beans."], "negative": ["tea is grown on hills"]}]
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    corpus = ["brew tea at 80  degrees.", "Use fresh water for tea.", "Grind the beans.",
              "tea is grown on hills", "How to brew tea?"]
    report = mine_rows(read_rows(path).rows, corpus, store_of(FakeEncoder()), tmp_path / "out.jsonl",
                  config=MiningConfig(num_negatives=5, relative_margin=None))
    first = rows_of(tmp_path / "out.jsonl")[0]
    # not: its positive (other case and spacing), the query's own text, the positive of row 2 (same
    # normalised query)
    assert sorted(first["neg"]) == ["Grind the beans.", "tea is grown on hills"]
    assert report.excluded_known_positive == 2  # row 1 <-> row 2, each way
    # rows 1 and 2: positive and query ("how to  brew tea" is "How to brew tea?" up to case, spaces and
    # punctuation, as data.text defines the same text everywhere); row 3: positive
    assert report.excluded_same_text == 2 + 2 + 1


def test_second_model_must_agree(tmp_path, table_rows):
    corpus = ["pos", "a", "b", "c"]
    second = dict(ANGLES, b=0.3)  # the second model finds "b" closer to the query than the positive
    report = mine_rows(table_rows, corpus, store_of(TableEncoder(ANGLES)), tmp_path / "out.jsonl",
                  config=MiningConfig(num_negatives=3, relative_margin=None),
                  checker=store_of(TableEncoder(second)), output_format="reranking")
    assert rows_of(tmp_path / "out.jsonl")[0]["negative"] == ["a", "c"]
    assert report.dropped["second_model"] == 1
    assert report.examples[0]["candidate"] == "b" and report.examples[0]["reason"] == "second_model"


def test_filtered_names_the_first_filter_that_applies():
    positive = 0.8
    assert filtered(0.75, positive, MiningConfig(relative_margin=None, absolute_margin=0.1)) == "absolute_margin"
    assert filtered(0.70, positive, MiningConfig(relative_margin=None, absolute_margin=0.1)) is None  # not above
    assert filtered(0.77, positive, MiningConfig(relative_margin=0.05)) == "relative_margin"  # > 0.76
    assert filtered(0.75, positive, MiningConfig(relative_margin=0.05)) is None
    assert filtered(0.77, -positive, MiningConfig(relative_margin=0.05)) == "relative_margin"  # |positive|
    assert filtered(0.6, positive, MiningConfig(relative_margin=None, max_score=0.5)) == "max_score"
    assert filtered(0.1, positive, MiningConfig(relative_margin=None, min_score=0.2)) == "min_score"
    everything = MiningConfig(absolute_margin=0.3, relative_margin=0.05, max_score=0.9, min_score=0.0)
    assert filtered(0.79, positive, everything) == "absolute_margin"  # the first in FILTERS order
    assert filtered(0.4, positive, everything) is None


def test_exclusions_use_the_one_definition_of_the_same_text():
    rows = [MiningRow("f:1", "How to brew tea?", ["Brew at 80 degrees."], [], {}),
            MiningRow("f:2", "how to  brew TEA", ["Use fresh water."], [], {}),
            MiningRow("f:3", "coffee", ["Grind the beans."], [], {})]
    known = KnownPositives(rows)
    first = known.exclusions(rows[0])
    assert first.reason("brewat80degrees") == "same_text"  # text_key: case, spaces and punctuation aside
    assert first.reason("howtobrewtea") == "same_text"  # the query itself
    assert first.reason("usefreshwater") == "known_positive"  # the positive of the same query in row 2
    assert first.reason("grindthebeans") is None
    assert known.exclusions(rows[2]).known == set()  # a query in one row needs no index
    assert list(known.by_query) == ["howtobrewtea"]


def test_second_model_without_margins_needs_a_score_below_the_positive(tmp_path, table_rows):
    corpus = ["pos", "a", "b", "c"]
    second = dict(ANGLES, a=0.5, c=0.49)  # "a" ties with the positive, "c" is above it
    report = mine_rows(table_rows, corpus, store_of(TableEncoder(ANGLES)), tmp_path / "out.jsonl",
                       config=MiningConfig(num_negatives=3, relative_margin=None),
                       checker=store_of(TableEncoder(second)))
    assert rows_of(tmp_path / "out.jsonl")[0]["neg"] == ["a", "b"]
    assert report.dropped["second_model"] == 1 and report.examples[0]["rank"] is None
    assert report.models == ["table", "table"]
    assert report.examples[0]["score"] == pytest.approx(np.cos(0.49), abs=1e-4)
