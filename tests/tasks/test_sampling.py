from __future__ import annotations

import embedlab
from embedlab.data import load_reranking, load_retrieval
from embedlab.run.evaluation import RunOptions
from embedlab.tasks.sampling import sample_reranking, sample_retrieval
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
