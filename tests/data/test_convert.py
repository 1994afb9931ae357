import json

import pytest

from embedlab.data.convert import convert
from embedlab.data.reranking import load_reranking
from embedlab.data.training import load_training
from embedlab.errors import DataError, UnknownNameError
from tests.conftest import RERANK_ROWS, write_beir, write_jsonl

# every kind of extra field: ids, a field on some rows only, a nested object, numbers
ROWS = [
    {**RERANK_ROWS[0], "source": "forum", "meta": {"lang": "en", "votes": 3}},
    {**RERANK_ROWS[1], "meta": {"lang": "en"}},
    {**RERANK_ROWS[2], "source": "faq", "meta": {"votes": 1}, "weight": 0.5},
    RERANK_ROWS[3],
]
FLAG_ROWS = [
    {"query": "q1", "pos": ["p1", "p2"], "neg": ["n1"], "prompt": "Represent this: ", "pos_scores": [0.9, 0.8],
     "neg_scores": [0.1], "type": "normal"},
    {"query": "q2", "pos": ["p3"], "neg": ["n2", "n3"], "prompt": "Represent this: ", "pos_scores": [1.0],
     "neg_scores": [0.2, 0.3], "type": "normal", "custom": [1, 2]},
]


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_round_trip_reranking_flag_parquet_dataset_reranking_gives_back_the_records(tmp_path):
    source = write_jsonl(tmp_path / "rerank.jsonl", ROWS)
    report = convert(source, tmp_path / "flag.jsonl", to="flag")
    flag = read(tmp_path / "flag.jsonl")
    assert list(flag[0]) == ["_id", "query", "pos", "neg", "source", "meta"]
    assert flag[2] == {"_id": "c", "query": ROWS[2]["query"], "pos": ROWS[2]["positive"],
                       "neg": ROWS[2]["negative"], "source": "faq", "meta": {"votes": 1}, "weight": 0.5}
    assert report.mapping == {"positive": "pos", "negative": "neg"}
    assert report.kept == ["_id", "source", "meta", "weight"] and not report.dropped
    convert(tmp_path / "flag.jsonl", tmp_path / "flag.parquet")
    parquet = convert(tmp_path / "flag.parquet", tmp_path / "flag_dataset")
    assert parquet.source_layout == "flag" and parquet.container == "dataset"
    convert(tmp_path / "flag_dataset", tmp_path / "back.jsonl", to="reranking")
    assert read(tmp_path / "back.jsonl") == ROWS


def test_a_field_missing_on_some_rows_is_null_in_a_table_and_missing_again_after(tmp_path):
    source = write_jsonl(tmp_path / "rerank.jsonl", ROWS)
    report = convert(source, tmp_path / "r.parquet")
    assert "source (2 rows)" in report.notes[-1] and "weight (3 rows)" in report.notes[-1]
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "r.parquet").to_pylist()
    assert table[1]["source"] is None and table[1]["meta"] == {"lang": "en", "votes": None}
    convert(tmp_path / "r.parquet", tmp_path / "back.jsonl")
    assert read(tmp_path / "back.jsonl") == ROWS


def test_flag_to_reranking_keeps_prompt_scores_and_custom_fields(tmp_path):
    source = write_jsonl(tmp_path / "flag.jsonl", FLAG_ROWS)
    report = convert(source, tmp_path / "rerank.jsonl", to="reranking")
    out = read(tmp_path / "rerank.jsonl")
    assert out[1] == {"query": "q2", "positive": ["p3"], "negative": ["n2", "n3"], "prompt": "Represent this: ",
                      "pos_scores": [1.0], "neg_scores": [0.2, 0.3], "type": "normal", "custom": [1, 2]}
    assert report.kept == ["prompt", "pos_scores", "neg_scores", "type", "custom"]
    training = load_training(tmp_path / "rerank.jsonl")
    assert training.rows[0].prompt == "Represent this: " and training.rows[1].negatives == ("n2", "n3")
    convert(tmp_path / "rerank.jsonl", tmp_path / "flag_again.jsonl", to="flag")
    assert read(tmp_path / "flag_again.jsonl") == FLAG_ROWS


def test_parquet_schema_conflict_names_file_line_field_and_what_to_do(tmp_path):
    rows = [{"_id": i, "query": f"q{i}", "positive": ["p"], "negative": ["n"]} for i in range(40)]
    rows[27]["_id"] = "x27"
    source = write_jsonl(tmp_path / "ids.jsonl", rows)
    for target in ("out.parquet", "out_dataset"):
        with pytest.raises(DataError) as caught:
            convert(source, tmp_path / target)
        message = str(caught.value)
        assert message.startswith(f"{source}:28: field '_id': is a string here but an integer at line 1")
        assert "write .jsonl instead" in message
        assert not (tmp_path / target).exists()
        assert not [p for p in tmp_path.iterdir() if "partial" in p.name]
    convert(source, tmp_path / "out.jsonl")  # JSONL holds it
    assert read(tmp_path / "out.jsonl")[27]["_id"] == "x27"


def test_triplets_refuse_fields_they_cannot_hold_unless_allowed(tmp_path):
    source = write_jsonl(tmp_path / "flag.jsonl", FLAG_ROWS)
    with pytest.raises(DataError) as caught:
        convert(source, tmp_path / "t.jsonl", to="triplets")
    message = str(caught.value)
    assert message.startswith(f"{source}:1: field 'prompt': a triplet has no place for this field (2 rows with it; "
                              f"also: pos_scores, neg_scores, type, custom)")
    assert "--allow-lossy" in message and not (tmp_path / "t.jsonl").exists()

    report = convert(source, tmp_path / "t.jsonl", to="triplets", allow_lossy=True)
    assert read(tmp_path / "t.jsonl") == [
        {"anchor": "q1", "positive": "p1", "negative": "n1"}, {"anchor": "q1", "positive": "p2", "negative": "n1"},
        {"anchor": "q2", "positive": "p3", "negative": "n2"}, {"anchor": "q2", "positive": "p3", "negative": "n3"}]
    assert report.dropped == {"prompt": 2, "pos_scores": 2, "neg_scores": 2, "type": 2, "custom": 1}
    assert report.rows_read == 2 and report.rows_written == 4
    assert report.mapping == {"query": "anchor", "pos": "positive", "neg": "negative"}
    assert "dropped (the target layout has no place for them): prompt (2 rows)" in report.summary()


def test_dropping_ids_on_purpose_is_not_a_loss(tmp_path):
    source = write_jsonl(tmp_path / "rerank.jsonl", RERANK_ROWS)
    report = convert(source, tmp_path / "t.jsonl", to="triplets", keep_ids=False)
    assert not report.dropped and "ids removed as asked: _id (4 rows)" in report.summary()
    assert all(set(r) <= {"anchor", "positive", "negative"} for r in read(tmp_path / "t.jsonl"))


def test_rows_without_negatives_become_pairs_in_jsonl_and_are_refused_in_a_table(tmp_path):
    source = write_jsonl(tmp_path / "rerank.jsonl", RERANK_ROWS)
    report = convert(source, tmp_path / "t.jsonl", to="triplets", keep_ids=False)
    out = read(tmp_path / "t.jsonl")
    assert len(out) == 3 + 2 * 2 + 3 + 1 and out[-1] == {"anchor": "no negatives here", "positive": "something"}
    assert "1 row without a negative written as 1 pair {anchor, positive}" in report.summary()
    with pytest.raises(DataError, match=r"rerank.jsonl:4: field 'negative': no negative for 'no negatives here'.*"
                                        r"parquet file holds one schema.*write .jsonl"):
        convert(source, tmp_path / "t.parquet", to="triplets", keep_ids=False)
    write_jsonl(tmp_path / "all.jsonl", RERANK_ROWS[:3])
    convert(tmp_path / "all.jsonl", tmp_path / "t_dataset", to="triplets", keep_ids=False)
    import datasets

    loaded = datasets.load_from_disk(str(tmp_path / "t_dataset"))
    assert loaded.column_names == ["anchor", "positive", "negative"] and len(loaded) == 10
    assert loaded[9] == {"anchor": "water a cactus", "positive": RERANK_ROWS[2]["positive"][0],
                         "negative": "black tea needs boiling water"}


def test_triplets_group_back_by_anchor_keeping_every_text_in_order(tmp_path):
    rows = [{"anchor": "a", "positive": "p1", "negative": "n1"}, {"anchor": "b", "positive": "p3", "negative": "n1"},
            {"anchor": "a", "positive": "p2", "negative": "n2"}, {"anchor": "a", "positive": "p1", "negative": "n2"},
            {"anchor": "c", "positive": "p4"},
            {"anchor": "b", "positive": "p3", "negative_1": "m1", "negative_2": "m2"}]
    source = write_jsonl(tmp_path / "t.jsonl", rows)
    report = convert(source, tmp_path / "flag.jsonl", to="flag")
    assert read(tmp_path / "flag.jsonl") == [
        {"query": "a", "pos": ["p1", "p2"], "neg": ["n1", "n2"]},
        {"query": "b", "pos": ["p3"], "neg": ["n1", "m1", "m2"]},
        {"query": "c", "pos": ["p4"], "neg": []}]
    assert report.source_layout == "triplets" and report.rows_read == 6 and report.rows_written == 3
    assert "not which negative was paired with which positive" in report.summary()
    assert load_training(tmp_path / "flag.jsonl").rows[2].negatives == ()


def test_triplet_fields_are_kept_when_an_anchor_agrees_and_refused_when_not(tmp_path):
    rows = [{"anchor": "a", "positive": "p1", "negative": "n1", "lang": "en", "score": 1},
            {"anchor": "a", "positive": "p2", "negative": "n1", "lang": "en", "score": 2}]
    source = write_jsonl(tmp_path / "t.jsonl", rows)
    with pytest.raises(DataError, match=r"t.jsonl:2: field 'score': differs between triplet rows of the same anchor"
                                        r".*make the rows of an anchor agree"):
        convert(source, tmp_path / "r.jsonl", to="reranking")
    report = convert(source, tmp_path / "r.jsonl", to="reranking", allow_lossy=True)
    assert read(tmp_path / "r.jsonl") == [{"query": "a", "positive": ["p1", "p2"], "negative": ["n1"], "lang": "en"}]
    assert report.dropped == {"score": 1} and report.kept == ["lang"]


def test_triplets_to_triplets_changes_only_the_container(tmp_path):
    rows = [{"anchor": "a", "positive": "p1", "negative": "n1", "lang": "en"},
            {"anchor": "b", "positive": "p2", "negative": "n2", "lang": "fr"}]
    convert(write_jsonl(tmp_path / "t.jsonl", rows), tmp_path / "t.parquet")
    report = convert(tmp_path / "t.parquet", tmp_path / "back.jsonl")
    assert read(tmp_path / "back.jsonl") == rows and report.kept == ["lang"]


def beir(tmp_path, n_docs=6):
    corpus = {f"d{i}": f"passage number {i}" for i in range(1, n_docs + 1)}
    queries = {"q1": "first", "q2": "second", "q3": "third", "q4": "only judged not relevant", "q5": "unjudged"}
    qrels = [("q1", "d2", 1), ("q1", "d1", 2), ("q1", "d3", 1), ("q2", "d4", 1), ("q2", "d6", 0), ("q2", "d5", 0),
             ("q3", "d1", 1), ("q4", "d2", 0)]
    return write_beir(tmp_path / "beir", corpus, queries, qrels)


def test_retrieval_rows_take_positives_and_judged_negatives_from_the_qrels(tmp_path):
    report = convert(beir(tmp_path), tmp_path / "rows.jsonl")
    assert read(tmp_path / "rows.jsonl") == [
        {"_id": "q1", "query": "first", "positive": ["passage number 1", "passage number 2", "passage number 3"],
         "negative": []},
        {"_id": "q2", "query": "second", "positive": ["passage number 4"],
         "negative": ["passage number 5", "passage number 6"]},
        {"_id": "q3", "query": "third", "positive": ["passage number 1"], "negative": []}]
    assert report.source_layout == "retrieval" and report.rows_read == 5 and report.rows_written == 3
    assert report.skipped == {"no_judgments": 1, "no_positive": 1} and report.kept == []
    assert report.mapping == {"query-id": "_id", "queries text": "query", "qrels grade > 0": "positive",
                              "qrels grade 0 + sampled": "negative"}
    summary = report.summary()
    assert "skipped: 1 query without any judgment, 1 query without a positive." in summary
    assert "embedlab mine" in summary and "2 rows without a negative" in summary
    task = load_reranking(tmp_path / "rows.jsonl")  # evaluation keeps the rows that have negatives
    assert [r.id for r in task.rows] == ["q2"] and task.skipped == {"no_negative": 2}


def test_sampled_negatives_are_never_judged_come_after_judged_ones_and_are_seeded(tmp_path):
    folder = beir(tmp_path, n_docs=60)
    judged = {"q1": {"d1", "d2", "d3"}, "q2": {"d4", "d5", "d6"}, "q3": {"d1"}}
    outputs = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        convert(folder, tmp_path / f"{name}.jsonl", to="flag", negatives=5, seed=seed)
        outputs.append(read(tmp_path / f"{name}.jsonl"))
    assert outputs[0] == outputs[1] and outputs[0] != outputs[2]
    for rows in outputs:
        for row in rows:
            judged_texts = {f"passage number {d[1:]}" for d in judged[row["_id"]]}
            sampled = row["neg"][-5:]
            assert len(set(sampled)) == 5 and not set(sampled) & judged_texts
        assert rows[1]["neg"][:2] == ["passage number 5", "passage number 6"] and len(rows[1]["neg"]) == 7


def test_a_small_corpus_gives_every_unjudged_passage_and_says_so(tmp_path):
    report = convert(beir(tmp_path), tmp_path / "rows.jsonl", negatives=10, seed=1)
    rows = read(tmp_path / "rows.jsonl")
    assert sorted(rows[0]["negative"]) == ["passage number 4", "passage number 5", "passage number 6"]
    assert "3 rows got fewer than 10 sampled negatives" in report.summary()


def test_retrieval_to_a_table_loads_with_the_project_loaders(tmp_path):
    folder = beir(tmp_path, n_docs=20)
    convert(folder, tmp_path / "rows.parquet", to="flag", negatives=2)
    task = load_reranking(tmp_path / "rows.parquet")
    assert [r.id for r in task.rows] == ["q1", "q2", "q3"] and len(task.rows[1].negatives) == 4
    assert load_training(tmp_path / "rows.parquet").rows[0].positives[0] == "passage number 1"
    report = convert(folder, tmp_path / "t.jsonl", to="triplets", negatives=1)
    assert not report.dropped and report.rows_written == 3 + 1 * 3 + 1  # q1: 3 pos x 1, q2: 1 x 3, q3: 1 x 1
    assert set(read(tmp_path / "t.jsonl")[0]) == {"anchor", "positive", "negative"}
    assert "query ids are not written" in report.summary()


def test_output_and_input_paths_are_guarded(tmp_path):
    source = write_jsonl(tmp_path / "rerank.jsonl", RERANK_ROWS)
    with pytest.raises(DataError, match="would overwrite or change the input"):
        convert(source, source, to="flag")
    convert(source, tmp_path / "out.jsonl", to="flag")
    with pytest.raises(DataError, match="out.jsonl: already exists.*--overwrite"):
        convert(source, tmp_path / "out.jsonl")
    convert(source, tmp_path / "out.jsonl", overwrite=True)
    assert "positive" in read(tmp_path / "out.jsonl")[0]
    (tmp_path / "mine").mkdir()
    with pytest.raises(DataError, match="not a saved Hugging Face dataset"):
        convert(source, tmp_path / "mine", overwrite=True)
    convert(source, tmp_path / "ds")
    convert(write_jsonl(tmp_path / "flag.jsonl", FLAG_ROWS), tmp_path / "ds", overwrite=True)
    assert read_dataset(tmp_path / "ds")[0]["pos"] == ["p1", "p2"]
    with pytest.raises(DataError, match="would overwrite or change the input"):
        convert(tmp_path / "ds", tmp_path / "ds" / "x.jsonl")
    with pytest.raises(DataError, match=r"cannot tell the output format from '\.csv'"):
        convert(source, tmp_path / "x.csv")


def read_dataset(path):
    import datasets

    return list(datasets.load_from_disk(str(path)))


@pytest.mark.parametrize("rows, options, match", [
    (RERANK_ROWS, {"negatives": 3}, "not a retrieval folder.*embedlab mine"),
    ([{"query": "q", "positive": ["p"], "pos": ["p"]}], {}, "x.jsonl:1: field 'pos': both 'positive' and 'pos'"),
    ([{"query": "q", "positive": ["p"]}, {"anchor": "q", "positive": "p"}], {},
     "x.jsonl:2: a triplet row .*convert one layout per file"),
    ([{"query": "q", "positive": ["p"]}, {"query": "r", "pos": ["p"]}], {}, "both key styles.*--to reranking"),
    ([{"query": "q", "positive": "p"}], {"to": "flag"}, "x.jsonl:1: field 'positive': expected a list"),
])
def test_bad_input_is_a_clear_error(tmp_path, rows, options, match):
    with pytest.raises(DataError, match=match):
        convert(write_jsonl(tmp_path / "x.jsonl", rows), tmp_path / "out.jsonl", **options)


def test_mixed_key_styles_convert_with_an_explicit_layout(tmp_path):
    source = write_jsonl(tmp_path / "x.jsonl", [{"query": "q", "positive": ["p"]}, {"query": "r", "pos": ["s"]}])
    report = convert(source, tmp_path / "out.jsonl", to="flag")
    assert report.source_layout == "reranking+flag"
    assert read(tmp_path / "out.jsonl") == [{"query": "q", "pos": ["p"]}, {"query": "r", "pos": ["s"]}]


def test_unknown_layout_suggests_the_closest(tmp_path):
    with pytest.raises(UnknownNameError, match="unknown layout 'triplet'; did you mean 'triplets'"):
        convert(write_jsonl(tmp_path / "x.jsonl", RERANK_ROWS), tmp_path / "o.jsonl", to="triplet")


def test_sampled_negatives_skip_corpus_duplicates_of_the_rows_texts(tmp_path):
    corpus = {"d1": "the answer", **{f"copy{i}": "the answer" for i in range(30)}, "d2": "judged not relevant",
              **{f"x{i}": f"other {i}" for i in range(3)}}
    folder = write_beir(tmp_path / "dup", corpus, {"q": "question"}, [("q", "d1", 1), ("q", "d2", 0)])
    convert(folder, tmp_path / "rows.jsonl", negatives=5)
    assert read(tmp_path / "rows.jsonl")[0]["negative"][0] == "judged not relevant"
    assert sorted(read(tmp_path / "rows.jsonl")[0]["negative"][1:]) == ["other 0", "other 1", "other 2"]


def test_a_dataset_with_several_splits_reads_the_asked_one_and_says_which_by_default(tmp_path):
    import datasets

    rows = [{"query": f"q{i}", "positive": [f"p{i}"], "negative": [f"n{i}"]} for i in range(4)]
    splits = datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:3]),
                                   "test": datasets.Dataset.from_list(rows[3:])})
    splits.save_to_disk(str(tmp_path / "dd"))
    report = convert(tmp_path / "dd", tmp_path / "train.jsonl", split="train")
    assert read(tmp_path / "train.jsonl") == rows[:3] and not report.notes
    report = convert(tmp_path / "dd", tmp_path / "default.jsonl")
    assert read(tmp_path / "default.jsonl") == rows[3:]
    assert "read split 'test' of train, test (pass --split for another)." in report.summary()


# -- reranking rows -> a retrieval folder over the pool of their passages -----------------------------------

def test_rows_to_a_retrieval_folder_that_loads_with_the_right_counts(tmp_path):
    from embedlab.data.retrieval import load_retrieval
    from embedlab.quality import inspect_path

    source = write_jsonl(tmp_path / "rerank.jsonl", RERANK_ROWS)
    report = convert(source, tmp_path / "pool", to="retrieval")
    assert sorted(p.name for p in (tmp_path / "pool").iterdir()) == ["corpus.jsonl", "qrels.tsv", "queries.jsonl"]
    assert (tmp_path / "pool" / "qrels.tsv").read_text().splitlines()[0] == "query-id\tcorpus-id\tscore"
    passages = list(dict.fromkeys(p for r in RERANK_ROWS for p in r["positive"] + r["negative"]))
    task = load_retrieval(tmp_path / "pool")
    assert sorted(task.corpus.values()) == sorted(passages) and len(passages) == 10  # 3 reused by rows
    assert task.corpus["d1"] == RERANK_ROWS[0]["positive"][0]
    assert task.queries == {r["_id"]: r["query"] for r in RERANK_ROWS}
    judgments = [(q, d, g) for q, judged in task.qrels.items() for d, g in judged.items()]
    assert sum(g == 1 for *_, g in judgments) == sum(len(r["positive"]) for r in RERANK_ROWS) == 5
    assert sum(g == 0 for *_, g in judgments) == sum(len(r["negative"]) for r in RERANK_ROWS) == 8
    assert (report.rows_read, report.rows_written, report.written) == (
        4, 4, {"queries": 4, "documents": 10, "judgments": 13})
    assert report.target_layout == "retrieval" and not report.skipped
    assert report.summary().startswith(f"read 4 rows (reranking) from {source}; wrote 4 queries, 10 documents "
                                       f"and 13 judgments (retrieval folder) to {tmp_path / 'pool'}.")
    assert inspect_path(tmp_path / "pool").severity_counts()["error"] == 0


def test_a_retrieval_folder_from_rows_round_trips_to_rows_and_evaluates(tmp_path):
    import embedlab
    from tests.conftest import FakeEncoder

    rows = RERANK_ROWS + [{"_id": "e", "query": "how do I brew green tea", "positive": ["steep for two minutes"],
                           "negative": ["coffee beans are roasted"]}]  # the query of row a again
    source = write_jsonl(tmp_path / "rerank.jsonl", rows)
    report = convert(source, tmp_path / "pool", to="retrieval")
    assert "1 row merged into an earlier row's query with the same text." in report.notes
    convert(tmp_path / "pool", tmp_path / "back.jsonl")
    back = {r["_id"]: r for r in read(tmp_path / "back.jsonl")}
    assert [r["query"] for r in back.values()] == [r["query"] for r in RERANK_ROWS]
    for row in RERANK_ROWS:
        expected = set(row["positive"]) | (set(rows[4]["positive"]) if row["_id"] == "a" else set())
        assert set(back[row["_id"]]["positive"]) == expected
        assert set(back[row["_id"]]["negative"]) == set(row["negative"])
    result = embedlab.evaluate(FakeEncoder(), [tmp_path / "pool"]).runs[0].tasks[0]
    assert result.type == "retrieval" and result.counts["queries"] == 4 and 0 < result.scores["ndcg@10"] <= 1


def test_rows_to_retrieval_guards_its_output_and_says_what_it_cannot_hold(tmp_path, retrieval_dir):
    source = write_jsonl(tmp_path / "flag.jsonl", FLAG_ROWS)
    with pytest.raises(DataError, match=r"flag.jsonl:1: field 'prompt': a retrieval folder has no place"):
        convert(source, tmp_path / "pool", to="retrieval")
    assert not (tmp_path / "pool").exists()
    report = convert(source, tmp_path / "pool", to="retrieval", allow_lossy=True)
    assert report.dropped == {"prompt": 2, "pos_scores": 2, "neg_scores": 2, "type": 2, "custom": 1}
    assert report.written["queries"] == 2 and list(report.mapping)[0] == "query"  # no _id: numbered q1, q2
    with pytest.raises(DataError, match="pool: already exists"):
        convert(source, tmp_path / "pool", to="retrieval", allow_lossy=True)
    convert(write_jsonl(tmp_path / "r.jsonl", RERANK_ROWS), tmp_path / "pool", to="retrieval", overwrite=True)
    assert (tmp_path / "pool" / "queries.jsonl").read_text().startswith('{"_id": "a"')
    (tmp_path / "notes").mkdir()
    with pytest.raises(DataError, match="not a retrieval folder, so it is not replaced"):
        convert(source, tmp_path / "notes", to="retrieval", overwrite=True)
    with pytest.raises(DataError, match="a retrieval folder is a folder"):
        convert(source, tmp_path / "pool.jsonl", to="retrieval")
    with pytest.raises(DataError, match="--to retrieval reads rows"):
        convert(retrieval_dir, tmp_path / "again", to="retrieval")
    with pytest.raises(DataError, match="would overwrite or change the input"):
        convert(tmp_path / "pool" / "queries.jsonl", tmp_path / "pool", to="retrieval", overwrite=True)


def test_triplets_to_a_retrieval_folder_group_by_anchor(tmp_path):
    triplets = [{"anchor": "q1", "positive": "p1", "negative": "n1"}, {"anchor": "q1", "positive": "p1", "negative": "n2"},
                {"anchor": "q2", "positive": "p2", "negative": "n1"}]
    report = convert(write_jsonl(tmp_path / "t.jsonl", triplets), tmp_path / "pool", to="retrieval")
    assert report.source_layout == "triplets" and report.written == {"queries": 2, "documents": 4, "judgments": 5}
    assert "grouped 3 triplet rows into 2 rows by anchor." in report.notes
