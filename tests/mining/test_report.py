"""The mining report: where the positives ranked, advice, examples of what was dropped."""

from __future__ import annotations

from embedlab.mining.config import MiningConfig
from embedlab.mining.inputs import MiningRow, read_rows
from embedlab.mining.miner import mine_rows
from embedlab.mining.report import MiningReport, rank_bucket
from tests.conftest import FakeEncoder, write_jsonl
from tests.mining.conftest import ANGLES, TableEncoder, store_of


def test_positive_ranks_and_advice(tmp_path):
    """Where each row's own positive ranks is counted; a model that misses the positives gets a note."""
    corpus = ["pos", "near", "a", "b", "c", "d", "e"]
    rows = [{"query": "q", "positive": ["pos"], "negative": []},    # pos at 0.50: rank 2 after "near"
            {"query": "q2", "positive": ["near"], "negative": []},  # q2 = q's angle: "near" ranks first
            {"query": "q3", "positive": ["e"], "negative": []}]     # e = 1.5: last of 7, below range_max 5
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    angles = dict(ANGLES, q2=0.0, q3=0.0)
    report = mine_rows(read_rows(path).rows, corpus, store_of(TableEncoder(angles)), tmp_path / "out.jsonl",
                  config=MiningConfig(num_negatives=1, range_max=5, relative_margin=None))
    assert report.positive_rank == {"1": 1, "2-10": 1, "11+": 0, "below_range": 1, "not_in_corpus": 0}
    assert any("first in only 33% of the 3 rows" in note for note in report.notes)
    good = mine_rows(read_rows(path).rows[1:2], corpus, store_of(TableEncoder(angles)), tmp_path / "good.jsonl",
                config=MiningConfig(num_negatives=1, relative_margin=None))
    assert good.positive_rank["1"] == 1 and good.notes == []
    # every candidate dropped: the rows end without negatives, and the note says so
    strict = mine_rows(read_rows(path).rows[1:2], corpus, store_of(TableEncoder(angles)), tmp_path / "strict.jsonl",
                  config=MiningConfig(num_negatives=1, absolute_margin=2.0))
    assert strict.rows_without_negative == 1 and any("got no mined negative" in n for n in strict.notes)


def test_examples_come_from_different_rows(tmp_path):
    corpus = [f"passage {i}" for i in range(30)]
    rows = [{"query": f"query {i}", "positive": [corpus[i]], "negative": []} for i in range(8)]
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    report = mine_rows(read_rows(path).rows, corpus, store_of(FakeEncoder()), tmp_path / "out.jsonl",
                  config=MiningConfig(num_negatives=2, relative_margin=None, absolute_margin=1.0))
    assert report.dropped["absolute_margin"] > 8  # many drops per row...
    where = [e["row"] for e in report.examples]
    assert len(where) == 5 and len(set(where)) == 5  # ...but one example per row, five rows


def test_rank_buckets():
    assert [rank_bucket(r, True) for r in (1, 2, 10, 11, 500)] == ["1", "2-10", "2-10", "11+", "11+"]
    assert rank_bucket(None, True) == "below_range" and rank_bucket(None, False) == "not_in_corpus"


def test_drop_counts_every_time_and_keeps_one_example_per_row_and_reason():
    report = MiningReport("rows.jsonl", "corpus", 3, 2, {"range_max": 100}, ["m"])
    row = MiningRow("rows.jsonl:1", "q", ["p"], [], {})
    for score in (0.9, 0.8):
        report.drop("relative_margin", row, "c", 0, score, 0.85)
    report.drop("max_score", row, "c", 4, 0.8, 0.85)
    assert report.dropped["relative_margin"] == 2 and report.likely_false_negatives == 3
    assert [(e["reason"], e["rank"]) for e in report.examples] == [("relative_margin", 1), ("max_score", 5)]
    assert report.examples[0] == {"row": "rows.jsonl:1", "reason": "relative_margin", "query": "q", "positive": "p",
                                  "candidate": "c", "rank": 1, "score": 0.9, "positive_score": 0.85}
    assert report.as_dict()["dropped"]["max_score"] == 1
