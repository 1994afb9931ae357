"""`inspect`: every finding on hand-written rows with exact counts and lines; leakage; tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedlab.errors import DataError
from embedlab.quality.inspect import against, inspect_path, inspect_rows
from tests.conftest import write_beir, write_jsonl

ROWS = [
    {"query": "brew green tea", "positive": ["P_tea"], "negative": ["N_coffee", "N_shared"]},  # 1
    {"query": "Brew green tea?", "positive": ["P_tea2"], "negative": ["P_tea"]},  # 2
    {"query": "fix a bike", "positive": ["P_bike"], "negative": ["p_bike.", "N_shared"]},  # 3
    {"query": "water a cactus", "positive": ["P_cactus"], "negative": ["P_tea", "N_shared"]},  # 4
    {"query": "fix a bike", "positive": ["P_bike"], "negative": ["p_bike.", "N_shared"]},  # 5
    {"query": "empty things", "positive": ["P_empty"], "negative": ["   ", ""]},  # 6
    {"query": "", "positive": ["P_x"], "negative": ["N_shared"]},  # 7
    {"query": "no positive", "positive": [], "negative": ["N_shared"]},  # 8
    {"query": "no negative", "positive": ["P_nn"]},  # 9
    {"query": "dup in row", "positive": ["P_d"], "negative": ["N_a", "n_a", "N_shared"]},  # 10
    {"query": "bad", "positive": "not a list", "negative": []},  # 11
    {"text": "no query at all"},  # 12
]

# code -> (severity, count, lines of the examples)
EXPECTED = {
    "empty_text": ("error", 3, [6, 6, 7]),
    "malformed_row": ("error", 2, [11, 12]),
    "positive_also_negative": ("error", 2, [3, 5]),
    "positive_negative_same_query": ("error", 1, [2]),
    "duplicate_row": ("warning", 1, [5]),
    "duplicate_query": ("warning", 1, [5]),
    "normalised_duplicate_query": ("warning", 1, [2]),
    "duplicate_passage_in_row": ("warning", 1, [10]),
    "no_positive": ("warning", 1, [8]),
    "no_negative": ("info", 1, [9]),
    "positive_negative_other_query": ("info", 1, [4]),
    "normalised_duplicate_passage": ("info", 2, [3, 10]),
    "shared_passage": ("info", 1, [1]),
}


def _lines(finding) -> list[int]:
    return [int(at.rsplit(":", 1)[1]) for at in finding.locations]


def pos_neg(row: dict) -> dict:
    renamed = {"positive": "pos", "negative": "neg"}
    return {renamed.get(k, k): v for k, v in row.items()}


@pytest.fixture
def rows_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "rows.jsonl", ROWS)


@pytest.fixture
def inspection(rows_file):
    return inspect_rows(rows_file)


def test_exactly_the_expected_findings(inspection):
    assert {f.code: f.count for f in inspection.findings} == {c: e[1] for c, e in EXPECTED.items()}
    severities = [f.severity for f in inspection.findings]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)  # errors first


@pytest.mark.parametrize("code", EXPECTED)
def test_finding(inspection, code):
    severity, count, lines = EXPECTED[code]
    finding = inspection.finding(code)
    assert (finding.severity, finding.count, _lines(finding)) == (severity, count, lines)
    assert finding.message and all(at.startswith("rows.jsonl:") for at in finding.locations)


def test_finding_details_and_examples(inspection):
    assert inspection.finding("duplicate_query").details == {"rows": 2}
    assert inspection.finding("duplicate_query").message == "queries that occur in more than one row (2 rows)"
    assert inspection.finding("duplicate_row").examples[0].text == "same as rows.jsonl:3: fix a bike"
    assert inspection.finding("positive_negative_same_query").examples[0].text == "positive at rows.jsonl:1: P_tea"
    assert inspection.finding("shared_passage").examples[0].text == "in 7 rows: N_shared"
    assert inspection.finding("shared_passage").details == {"threshold": 5, "max_rows": 7}
    assert [e.text for e in inspection.finding("empty_text").examples] == [
        "negative: '   '", "negative: ''", "query: ''"]
    assert "field 'positive': expected a list of strings" in inspection.finding("malformed_row").examples[0].text
    assert "field 'query': missing" in inspection.finding("malformed_row").examples[1].text


def test_shared_threshold_is_configurable(rows_file):
    assert inspect_rows(rows_file, shared_threshold=7).finding("shared_passage") is None
    shared = inspect_rows(rows_file, shared_threshold=2).finding("shared_passage")
    # N_shared in 7 rows, P_tea in 3; P_bike and p_bike. are one passage in 2 rows, counted once per row
    assert [e.text for e in shared.examples] == ["in 7 rows: N_shared", "in 3 rows: P_tea"]


def test_summary_statistics(inspection):
    assert inspection.layout == "rows"
    assert inspection.counts == {"rows": 10, "distinct_queries": 8, "distinct_normalised_queries": 7,
                                 "distinct_passages": 11, "distinct_positives": 8, "positives": 9,
                                 "negatives": 16}
    assert inspection.per_row == {"positives": {"min": 0, "mean": 0.9, "max": 1},
                                  "negatives": {"min": 0, "mean": 1.6, "max": 3}}
    assert inspection.key_styles == {"positive/negative": 10}
    assert inspection.tokens == {} and inspection.max_length is None
    data = json.loads(json.dumps(inspection.as_dict()))
    assert "values" not in data and "index" not in data
    empty = next(f for f in data["findings"] if f["code"] == "empty_text")
    assert empty["examples"][0] == {"at": "rows.jsonl:6", "text": "negative: '   '"} and empty["count"] == 3


def test_length_percentiles_are_nearest_rank(tmp_path):
    path = write_jsonl(tmp_path / "l.jsonl", [{"query": "q" * n, "pos": ["p" * (2 * n)]} for n in range(1, 21)])
    lengths = inspect_rows(path).lengths
    assert lengths["query"] == {"count": 20, "min": 1, "p50": 10, "p95": 19, "max": 20, "mean": 10.5}
    assert lengths["positive"] == {"count": 20, "min": 2, "p50": 20, "p95": 38, "max": 40, "mean": 21.0}
    assert lengths["negative"] == {"count": 0}


def test_pos_neg_keys_give_the_same_findings(tmp_path, inspection):
    path = write_jsonl(tmp_path / "flag.jsonl", [pos_neg(r) for r in ROWS])
    flag = inspect_rows(path)
    assert [(f.code, f.count, _lines(f)) for f in flag.findings] == \
           [(f.code, f.count, _lines(f)) for f in inspection.findings]
    assert flag.key_styles == {"pos/neg": 10}


def test_parquet_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [pos_neg({"negative": [], **r}) for r in ROWS[:10]]  # the readable rows, one schema
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "rows.parquet")
    inspection = inspect_path(tmp_path / "rows.parquet")
    expected = {c: (e[1], e[2]) for c, e in EXPECTED.items() if c != "malformed_row"}
    expected["no_negative"] = (1, [9])  # [] instead of a missing key: still no negative
    assert {f.code: (f.count, _lines(f)) for f in inspection.findings} == expected
    assert inspection.finding("empty_text").locations[0] == "rows.parquet:6"


def test_hugging_face_directory_of_rows(tmp_path):
    write_jsonl(tmp_path / "hf" / "data" / "test.jsonl", ROWS[:5])
    inspection = inspect_path(tmp_path / "hf")
    assert inspection.layout == "rows" and inspection.counts["rows"] == 5
    assert _lines(inspection.finding("duplicate_row")) == [5]


def test_unreadable_file_is_one_error(tmp_path):
    path = write_jsonl(tmp_path / "corpus.jsonl", [{"_id": "d1", "text": "a"}, {"_id": "d2", "text": "b"}])
    with pytest.raises(DataError, match=r"corpus.jsonl:1: field 'query': missing"):
        inspect_rows(path)


# -- leakage ---------------------------------------------------------------------------------------------

TRAIN = [
    {"query": "brew green tea", "positive": ["P1"], "negative": ["N1"]},
    {"query": "Fix a bike!", "positive": ["P2"], "negative": ["N2"]},
    {"query": "water a cactus", "positive": ["P3"], "negative": ["T_pos"]},
    {"query": "brew green tea", "positive": ["P4"], "negative": ["N1"]},
]
TEST = [
    {"query": "something else", "positive": ["T_pos"], "negative": ["N1"]},
    {"query": "brew green tea", "positive": ["P9"], "negative": ["N9"]},
    {"query": "fix a bike", "positive": ["T2"], "negative": ["N8"]},
]


def test_against_counts_leaked_queries_and_passages(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", TRAIN)
    test = write_jsonl(tmp_path / "test.jsonl", TEST)
    inspection = against(train, test)
    query = inspection.finding("leak_query")
    assert (query.severity, query.count, query.locations, query.details["rows"]) == \
           ("error", 1, ["train.jsonl:1 = test.jsonl:2"], 2)
    normalised = inspection.finding("leak_normalised_query")
    assert (normalised.count, normalised.locations) == (1, ["train.jsonl:2 ~ test.jsonl:3"])
    assert normalised.examples[0].text == "Fix a bike! ~ fix a bike"
    passage = inspection.finding("leak_passage")
    assert (passage.severity, passage.count, passage.details["positives_in_other"]) == ("warning", 2, 1)
    assert passage.locations == ["train.jsonl:1 = test.jsonl:1", "train.jsonl:3 = test.jsonl:1"]
    assert passage.message == "passages also in test.jsonl, 1 of them positives there"
    assert inspection.against == {"source": str(test), "layout": "rows",
                                  "counts": inspect_rows(test).counts}
    assert against(test, write_jsonl(tmp_path / "other.jsonl", [{"query": "x", "pos": ["y"]}])).finding(
        "leak_query") is None


def test_against_a_retrieval_folder(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", TRAIN)
    folder = write_beir(tmp_path / "beir", {"d1": "P1", "d2": "N2", "d3": "other"},
                        {"q1": "BREW green tea", "q2": "unrelated"}, [("q1", "d1", 1), ("q2", "d3", 1)])
    inspection = against(inspect_rows(train), folder)
    assert inspection.finding("leak_normalised_query").locations == ["train.jsonl:1 ~ queries.jsonl:1"]
    assert inspection.finding("leak_normalised_query").details["rows"] == 2
    passage = inspection.finding("leak_passage")
    assert (passage.count, passage.details["positives_in_other"]) == (2, 1)  # P1 judged relevant, N2 not


# -- tokens ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def minilm_tokenizer():
    from embedlab.demo import default_model
    from embedlab.models.tokenizer import load_tokenizer

    return load_tokenizer(default_model())


def test_load_tokenizer_reads_the_sentence_transformers_max_length(minilm_tokenizer):
    tokenizer, max_length = minilm_tokenizer
    assert max_length == 256 and tokenizer.model_max_length == 512


def test_token_counts_match_the_tokenizer(tmp_path, minilm_tokenizer):
    tokenizer, _ = minilm_tokenizer
    rows = [{"query": "how do I brew green tea", "positive": ["brew it at eighty degrees " * k],
             "negative": ["black tea needs boiling water", "unbelievably" * k]} for k in range(1, 6)]
    path = write_jsonl(tmp_path / "t.jsonl", rows)
    inspection = inspect_rows(path, tokenizer=tokenizer, max_length=12)

    def own(text: str) -> int:
        return len(tokenizer(text)["input_ids"])

    assert inspection.values["tokens"]["positive"] == [own(r["positive"][0]) for r in rows]
    assert inspection.values["tokens"]["negative"] == [own(t) for r in rows for t in r["negative"]]
    over = [(i + 1, kind) for kind in ("positive", "negative") for i, r in enumerate(rows)
            for t in r[kind] if own(t) > 12]
    too_long = inspection.finding("too_long")
    assert too_long.count == len(over) and _lines(too_long) == [line for line, _ in over][:5]
    assert too_long.details == {"max_length": 12, "by_kind": {
        "query": 0, "positive": sum(k == "positive" for _, k in over), "negative": sum(k == "negative" for _, k in over)}}
    assert inspection.tokens["query"]["max"] == own("how do I brew green tea")
    assert inspection.tokens["positive"]["over_max"] == sum(k == "positive" for _, k in over) > 0
    assert inspection.max_length == 12 and inspection.tokenizer


def test_a_passage_repeated_up_to_punctuation_is_shown_with_both_forms(tmp_path):
    from embedlab.quality import inspect_path
    from tests.conftest import write_jsonl

    path = write_jsonl(tmp_path / "r.jsonl", [{"query": "q", "positive": ["Tea is green.", "tea is green"],
                                               "negative": ["n", "n"]}])
    finding = inspect_path(path).finding("duplicate_passage_in_row")
    texts = sorted(e.text for e in finding.examples)
    assert texts == ["n", "tea is green ~ Tea is green. (same after normalisation)"]
    assert "same after normalisation" in finding.message
