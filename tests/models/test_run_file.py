"""`-m run:FILE`: a TREC run scored as pytrec_eval scores it (ties, deep and shallow runs, documents outside the
corpus, queries missing from the run), refused early when malformed, refused when it ranks another collection."""

from __future__ import annotations

import random

import numpy as np
import pytest

from embedlab.errors import DataError, ModelError
from embedlab.models.registry import backend_class, load_model
from embedlab.models.run_file import RunFile
from embedlab.run.evaluation import IncompleteRun, RunOptions, evaluate
from embedlab.tasks.retrieval import RetrievalTask

pytrec_eval = pytest.importorskip("pytrec_eval")


def _collection(seed: int = 0, docs: int = 1500, queries: int = 40):
    rng = random.Random(seed)
    corpus = {f"d{i:04d}": f"document {i}" for i in range(docs)}
    qrels = {f"q{q:02d}": {f"d{rng.randrange(docs):04d}": rng.choice([0, 1, 1, 2, 3]) for _ in range(rng.randint(1, 12))}
             for q in range(queries)}
    for grades in qrels.values():  # every query has a relevant document (a judged-0-only query scores 0 anyway)
        grades[next(iter(grades))] = max(1, next(iter(grades.values())))
    return RetrievalTask("coll", corpus, {q: f"query {q}" for q in qrels}, qrels, source="")


def _run_text(task: RetrievalTask, seed: int = 0) -> str:
    """A run with heavy ties (scores on a 0.1 grid), relevant documents pushed up, a query ranked 1,200 deep,
    one 4 deep, one missing, ids outside the corpus, ranks that disagree with the scores, and shuffled lines."""
    rng = random.Random(seed)
    ids = list(task.corpus)
    lines = []
    for n, qid in enumerate(task.queries):
        if n == 3:
            continue  # not in the run
        depth = 1200 if n == 0 else 4 if n == 1 else rng.randint(5, 300)
        chosen = rng.sample(ids, depth - 2) + [f"x{n}a", f"x{n}b"]  # two documents the corpus lacks
        chosen += [d for d in task.qrels[qid] if d not in chosen and rng.random() < 0.7]
        for rank, docid in enumerate(chosen, start=1):
            boost = 0.5 if task.qrels[qid].get(docid, 0) > 0 else 0.0
            score = round(rng.choice([0.1, 0.2, 0.3, 0.4, 0.5]) + boost, 1)
            lines.append(f"{qid} Q0 {docid} {rng.randint(1, 9)} {score} prod")
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


def test_per_query_scores_equal_pytrec_eval_on_the_same_file(tmp_path):
    task = _collection()
    path = tmp_path / "prod.trec"
    path.write_text(_run_text(task), encoding="utf-8")
    result = evaluate(f"run:{path}", [task]).runs[0].tasks[0]
    with open(path) as handle:
        reference = pytrec_eval.RelevanceEvaluator(
            task.qrels, {"ndcg_cut.10", "map_cut.1000", "map", "recall.100", "P.5"}).evaluate(pytrec_eval.parse_run(handle))
    ours = {qid: {name: values[i] for name, values in result.per_query.items()} for i, qid in enumerate(result.query_ids)}
    for qid, expected in reference.items():
        assert ours[qid]["ndcg@10"] == pytest.approx(expected["ndcg_cut_10"], abs=1e-9)
        assert ours[qid]["map@1000"] == pytest.approx(expected["map_cut_1000"], abs=1e-9)
        assert ours[qid]["recall@100"] == pytest.approx(expected["recall_100"], abs=1e-9)
        assert ours[qid]["precision@5"] == pytest.approx(expected["P_5"], abs=1e-9)
        if qid != "q00":  # up to 1,000 deep, MAP is MAP@1000 (q00's run goes 1,200 deep: trec_eval's map too)
            assert ours[qid]["map@1000"] == pytest.approx(expected["map"], abs=1e-9)
    assert set(reference) == set(task.queries) - {"q03"}
    assert all(values[result.query_ids.index("q03")] == 0 for values in result.per_query.values())
    assert result.scores["ndcg@10"] == pytest.approx(  # the mean counts the missing query as 0 (trec_eval -c)
        sum(r["ndcg_cut_10"] for r in reference.values()) / len(task.queries), abs=1e-12)


def test_the_results_count_missing_queries_and_documents_outside_the_corpus(tmp_path):
    task = _collection(queries=6)
    path = tmp_path / "prod.trec"
    path.write_text(_run_text(task), encoding="utf-8")
    run = evaluate(f"run:{path}", [task]).runs[0]
    counts = run.tasks[0].counts
    coverage = {key: counts[f"run_{key}"] for key in ("queries_missing", "documents_outside_corpus")}
    assert coverage == {"queries_missing": 1, "documents_outside_corpus": 10}  # 5 queries x 2 (1,000 deep)
    assert run.model["backend"] == "trec-run" and run.model["tags"] == ["prod"] and len(run.model["sha256"]) == 64


def test_a_small_corpus_still_ranks_as_deep_as_the_run(tmp_path):
    """Documents outside a 3-document corpus take ranks: the evaluation depth is the run's, not the corpus size."""
    task = RetrievalTask("tiny", {"a": "", "b": "", "c": ""}, {"q": "?"}, {"q": {"c": 1}})
    path = tmp_path / "r.trec"
    path.write_text("q Q0 x1 1 9 t\nq Q0 x2 2 8 t\nq Q0 a 3 7 t\nq Q0 b 4 6 t\nq Q0 c 5 5 t\n", encoding="utf-8")
    scores = evaluate(f"run:{path}", [task]).runs[0].tasks[0].scores
    assert scores["mrr@10"] == pytest.approx(1 / 5) and scores["recall@3"] == 0 and scores["recall@5"] == 1


def test_a_run_of_another_collection_is_refused_with_one_line(tmp_path):
    task = _collection(queries=3)
    other = tmp_path / "other.trec"
    other.write_text("z1 Q0 d0001 1 1 t\n", encoding="utf-8")
    with pytest.raises(IncompleteRun) as missing:
        evaluate(f"run:{other}", [task])
    assert "ranks none of the task's 3 queries" in missing.value.results.failures[0]["error"]
    outside = tmp_path / "outside.trec"
    outside.write_text("q00 Q0 zz 1 1 t\nq01 Q0 yy 1 1 t\n", encoding="utf-8")
    with pytest.raises(IncompleteRun) as error:
        evaluate(f"run:{outside}", [task])
    assert "outside.trec:1: none of the 2 documents it ranks" in error.value.results.failures[0]["error"]


def test_a_malformed_run_fails_before_any_model_loads(tmp_path, fake_encoder):
    bad = tmp_path / "bad.trec"
    bad.write_text("q00 Q0 d0001 1 1 t\nq00 Q0 d0002 2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.trec:2: has 4 columns"):
        evaluate([fake_encoder, f"run:{bad}"], [_collection(queries=2)])
    assert fake_encoder.calls == []
    with pytest.raises(ModelError, match="run: needs a run file"):
        RunFile.check_name("")


def test_the_file_is_read_once_for_the_check_and_the_model(tmp_path, monkeypatch):
    import embedlab.models.run_file as module

    path = tmp_path / "r.trec"
    path.write_text("q Q0 a 1 1 t\n", encoding="utf-8")
    reads, original = [], module.read_run
    monkeypatch.setattr(module, "read_run", lambda p: reads.append(p) or original(p))
    backend_class(f"run:{path}")
    model = load_model(f"run:{path}")
    assert isinstance(model, RunFile) and len(reads) == 1 and model.name == f"run:{path}"
    path.write_text("q Q0 a 1 1 t\nq Q0 b 1 2 t\n", encoding="utf-8")  # changed: read again
    assert load_model(f"run:{path}").run.documents == 2 and len(reads) == 2


def test_reranking_rows_are_refused_with_one_line(tmp_path, rerank_file):
    path = tmp_path / "r.trec"
    path.write_text("a Q0 x 1 1 t\n", encoding="utf-8")
    with pytest.raises(IncompleteRun) as error:
        evaluate(f"run:{path}", [rerank_file], run=RunOptions())
    assert "reranking rows have none" in error.value.results.failures[0]["error"]


def test_rank_as_a_plain_ranker(tmp_path):
    path = tmp_path / "r.trec"
    path.write_text("q1 Q0 b 1 0.5 t\nq1 Q0 a 2 0.5 t\nq1 Q0 c 3 0.25 t\n", encoding="utf-8")
    indices, scores = RunFile(str(path)).rank({"q1": "", "q2": ""}, {"a": "", "b": "", "c": ""}, 2)
    assert indices.tolist() == [[1, 0], [-1, -1]] and scores[0].tolist() == [0.5, 0.5]
    assert np.asarray(scores).dtype == np.float64


def test_scores_equal_in_float32_tie_as_trec_eval_keeps_them(tmp_path):
    """trec_eval (so pytrec_eval and mteb) holds a score as a C float: 0.500000001 and 0.5 tie, and the tie goes to
    the higher document id (issue 24, item 7: embedlab said 1.0, pytrec_eval 0.6309)."""
    task = RetrievalTask("t", {"a00000": "x", "a03812": "y"}, {"q00000": "q"}, {"q00000": {"a00000": 1}})
    text = "q00000 Q0 a00000 1 0.500000001 x\nq00000 Q0 a03812 2 0.5 x\n"
    path = tmp_path / "r.trec"
    path.write_text(text, encoding="utf-8")
    ours = evaluate(f"run:{path}", [task]).runs[0].tasks[0].scores["ndcg@10"]
    with open(path) as handle:
        reference = pytrec_eval.RelevanceEvaluator(task.qrels, {"ndcg_cut.10"}).evaluate(pytrec_eval.parse_run(handle))
    assert reference["q00000"]["ndcg_cut_10"] == pytest.approx(0.6309297535714575)
    assert ours == pytest.approx(reference["q00000"]["ndcg_cut_10"], abs=1e-12)
