from __future__ import annotations

import json

import pytest

import embedlab
from embedlab.data import load_reranking, load_retrieval
from embedlab.errors import DataError
from embedlab.run.evaluation import RunOptions
from embedlab.tasks.sampling import sample_note, sample_reranking, sample_retrieval
from tests.conftest import FakeEncoder, write_jsonl


def test_reranking_sample_is_seeded_ordered_and_recorded(tmp_path):
    rows = [{"_id": f"r{i}", "query": f"q{i}", "positive": [f"p{i}"], "negative": [f"n{i}"]} for i in range(50)]
    task = load_reranking(write_jsonl(tmp_path / "r.jsonl", rows))
    a, b, c = sample_reranking(task, 10, seed=1), sample_reranking(task, 10, seed=1), sample_reranking(task, 10, seed=2)
    ids = [r.id for r in a.rows]
    assert ids == [r.id for r in b.rows] != [r.id for r in c.rows]
    assert len(ids) == 10 and ids == sorted(ids, key=lambda i: int(i[1:]))
    assert a.sample == {"n": 10, "of": 50, "seed": 1} and a.fingerprint() != task.fingerprint()
    assert sample_reranking(task, 500, seed=1) is task


def test_retrieval_sample_whole_or_pruned_corpus(retrieval_dir):
    task = load_retrieval(retrieval_dir)
    whole = sample_retrieval(task, 2, seed=0)
    assert len(whole.queries) == 2 and whole.corpus == task.corpus
    assert set(whole.qrels) == set(whole.queries)
    pruned = sample_retrieval(task, 2, seed=0, prune_corpus=True, distractors=1)
    judged = {d for docs in pruned.qrels.values() for d in docs}
    assert judged < set(pruned.corpus) and len(pruned.corpus) == len(judged) + 1
    assert pruned.sample["corpus"] == "pruned"


def test_evaluate_on_a_sample_records_it(rerank_file):
    results = embedlab.evaluate(FakeEncoder(), rerank_file, run=RunOptions(sample=2, seed=7))
    task = results.runs[0].tasks[0]
    assert task.sample == {"n": 2, "of": 3, "seed": 7} and len(task.query_ids) == 2


def test_a_sample_of_a_sample_with_the_same_settings_is_that_sample(retrieval_dir, rerank_file):
    """The CLI loads sampled tasks and `evaluate` samples them again: `--sample 2 --prune-corpus 1` recorded "2 of 2"
    (issue 30, item 2). Sampling is idempotent; another sample of a sample is refused (it could not be drawn again
    from the data)."""
    task = load_retrieval(retrieval_dir)
    pruned = sample_retrieval(task, 2, seed=3, prune_corpus=True, distractors=1)
    again = sample_retrieval(pruned, 2, seed=3, prune_corpus=True, distractors=1)
    assert again is pruned and again.sample == {"n": 2, "of": len(task.queries), "seed": 3, "corpus": "pruned",
                                                "distractors": 1}
    rows = load_reranking(rerank_file)
    once = sample_reranking(rows, 2, seed=1)
    assert sample_reranking(once, 2, seed=1) is once
    with pytest.raises(DataError, match="is a seeded sample already"):
        sample_retrieval(pruned, 1, seed=3, prune_corpus=True, distractors=1)


def test_the_command_line_records_the_sample_of_the_whole_data(tmp_path):
    from embedlab.demo import RETRIEVAL
    from tests.cli.test_main import run

    pytest.importorskip("bm25s")
    out = run("eval", "-m", "bm25", "--retrieval", RETRIEVAL, "--sample", "5", "--prune-corpus", "3", "-q",
              "-o", str(tmp_path / "r.json"))
    assert out.returncode == 0, out.stderr
    sample = json.loads((tmp_path / "r.json").read_text())["runs"][0]["tasks"][0]["sample"]
    assert sample == {"n": 5, "of": 28, "seed": 0, "corpus": "pruned", "distractors": 3}


@pytest.mark.parametrize("sample, words", [
    ({"n": 10, "of": 37, "seed": 1}, "seeded sample of 10 of 37 (seed 1)"),
    ({"n": 5, "of": 3219, "seed": 0, "corpus": "whole", "distractors": None}, "seeded sample of 5 of 3,219 (seed 0)"),
    ({"n": 200, "of": 3219, "seed": 0, "corpus": "pruned", "distractors": 100},
     "seeded sample of 200 of 3,219 (seed 0), corpus pruned to their judged documents + 100 others: scores are "
     "higher than on the whole corpus"),
])
def test_a_sample_in_words(sample, words):
    assert sample_note(sample) == words
