import json

import numpy as np

from embedlab.models import ModelOptions
from embedlab.run.evaluation import evaluate
from embedlab.run.options import RunOptions
from embedlab.synth.drafts import Draft
from embedlab.synth.passages import Passage
from embedlab.synth.retrievers import Retrievers
from embedlab.tasks.retrieval import RetrievalTask
from tests.conftest import FakeEncoder

CORPUS = {f"p{i}": Passage(f"p{i}", text) for i, text in enumerate([
    "green tea is brewed at eighty degrees", "black tea needs boiling water", "patch the inner tube of a tyre",
    "a cactus needs little water", "oil the bicycle chain monthly", "ferns like humid air"])}
DRAFTS = [Draft("brew green tea", "p0", ("p0",)), Draft("fix a tyre tube", "p2", ("p2",)),
          Draft("zzz qqq", "p1", ("p1",))]  # no word in common: ranked by ties, p5 first


def test_the_round_trip_is_an_evaluate_run_per_retriever():
    encoder = FakeEncoder()
    retrievers = Retrievers(("bm25", encoder), ModelOptions(), RunOptions())
    found = retrievers.round_trip(DRAFTS, CORPUS, 1)
    assert list(found) == ["bm25", "fake-bigram"]
    task = RetrievalTask("t", {k: p.content for k, p in CORPUS.items()}, {f"q{i}": d.text for i, d in enumerate(DRAFTS)},
                         {f"q{i}": {d.positives[0]: 1} for i, d in enumerate(DRAFTS)})
    expected = evaluate(["bm25", FakeEncoder()], [task], run=RunOptions(k_values=(1, 10)))
    for run, (name, hits) in zip(expected.runs, found.items()):
        assert hits.tolist() == [v > 0 for v in run.tasks[0].per_query["hit_rate@1"]]
    assert found["bm25"].tolist() == [True, True, False]


def test_query_vectors_come_from_the_first_embedding_model_and_not_from_an_english_default_on_chinese():
    encoder = FakeEncoder()
    vectors, why = Retrievers(("bm25", encoder), ModelOptions(), RunOptions()).embed(["brew tea", "fix tyre"])
    assert why == "" and vectors.shape == (2, 64) and np.allclose(np.linalg.norm(vectors, axis=1), 1)
    assert Retrievers(("bm25",), ModelOptions(), RunOptions()).embed(["x"]) == (None, "no embedding model among -m")
    defaulted = Retrievers(("bm25", encoder), ModelOptions(), RunOptions(), defaulted=True)
    assert defaulted.embed(["怎么泡绿茶？", "绿茶"])[0] is None and "English-only" in defaulted.embed(["绿茶"])[1]
    assert defaulted.embed(["brew tea", "fix tyre"])[0] is not None


def test_reranking_rows_are_mined_with_the_false_negative_filter(tmp_path):
    retrievers = Retrievers(("bm25", FakeEncoder()), ModelOptions(), RunOptions())
    made = retrievers.mine_rows([("q1", DRAFTS[0]), ("q2", DRAFTS[1])], CORPUS, tmp_path / "rows.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert [(r["_id"], r["query"], r["positive"]) for r in rows] == [
        ("q1", "brew green tea", ["green tea is brewed at eighty degrees"]),
        ("q2", "fix a tyre tube", ["patch the inner tube of a tyre"])]
    assert all(r["negative"] and r["positive"][0] not in r["negative"] for r in rows)
    assert made["rows"] == 2 and made["negatives"] == sum(len(r["negative"]) for r in rows)
    assert (tmp_path / "rows.report.json").is_file() and made["model"] == "fake-bigram"
