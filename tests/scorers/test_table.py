"""A run file scored through the scorer table: coverage recorded per task (in its counts), reranking rows
refused (the parity with pytrec_eval is tested in tests/models/test_run_file.py)."""

from __future__ import annotations

import pytest

from embedlab.data.reranking import load_reranking
from embedlab.errors import ModelError
from embedlab.models.run_file import RunFile
from embedlab.run.context import RunContext
from embedlab.scorers import RankerScorer, scorer_for
from embedlab.tasks.retrieval import RetrievalTask


def test_ranking_records_coverage_under_the_task_name(tmp_path):
    path = tmp_path / "r.trec"
    path.write_text("q1 Q0 a 1 2 t\nq1 Q0 zz 2 1 t\n", encoding="utf-8")
    model = RunFile(str(path))
    scorer = scorer_for(model, RunContext())
    assert isinstance(scorer, RankerScorer)
    task = RetrievalTask("T", {"a": "", "b": ""}, {"q1": "", "q2": ""}, {"q1": {"a": 1}, "q2": {"b": 1}})
    indices, scores = scorer.ranking(task, 10)
    assert indices.shape == (2, 10) and indices[0, :3].tolist() == [0, -1, -1]
    assert scorer.measured(task).counts == {"run_queries_missing": 1, "run_documents_outside_corpus": 1}
    assert scorer.model_seconds > 0


def test_reranking_rows_are_refused(tmp_path, rerank_file):
    path = tmp_path / "r.trec"
    path.write_text("a Q0 x 1 1 t\n", encoding="utf-8")
    with pytest.raises(ModelError, match="reranking rows have none: evaluate a run file on retrieval data"):
        RankerScorer(RunFile(str(path))).candidate_scores(load_reranking(rerank_file))
