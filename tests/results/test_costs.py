"""What each kind costs, from results alone: storage per output, the search and its measured cost per task."""

from __future__ import annotations

from embedlab.results import ModelRun, Results, TaskResult
from embedlab.results.costs import cost_rows


def result(task: str, kind: str, score: float) -> TaskResult:
    main = "ndcg@10" if kind == "retrieval" else "v1.map"
    return TaskResult(task=task, type=kind, source="x", data_hash="h", main_score=main, scores={main: score},
                      query_ids=["q"], per_query={main: [score]}, counts={}, timings={})


def test_rows_for_the_runs_that_recorded_their_costs_only():
    sparse = ModelRun({"name": "sparse:s"}, {"document_storage": {"sparse": {"bytes_per_text": 5456.0}},
                                             "sparse_index": {"r": {"index_bytes": 566_300, "ms_per_query": 0.03}}},
                      [result("rows", "reranking", 0.9), result("r", "retrieval", 0.8)])
    colbert = ModelRun({"name": "colbert:c"}, {"document_storage": {"tokens": {"bytes_per_text": 4245.0}},
                                               "multi_vector_search": {"r": {"method": "ivf", "ms_per_query": 1.5}}},
                       [result("r", "retrieval", 0.7)])
    plain = ModelRun({"name": "dense"}, {"texts_encoded": 3}, [result("r", "retrieval", 0.6)])
    rows = cost_rows(Results([sparse, colbert, plain]))
    assert [(r.model, r.task) for r in rows] == [("sparse:s", "rows"), ("sparse:s", "r"), ("colbert:c", "r")]
    assert rows[0].search == "each row's candidates" and rows[0].index_bytes is None
    assert rows[1].search == "sparse inverted index" and rows[1].index_bytes == 566_300 and rows[1].ms_per_query == 0.03
    assert rows[2].search == "MaxSim (ivf)" and rows[2].storage == {"tokens": 4245.0} and rows[2].score == 0.7


def test_a_dense_run_with_an_approximate_index_has_a_row():
    run = ModelRun({"name": "d"}, {"approximate_search": {"r": {"method": "hnsw", "recall@10_vs_exact": 1.0}}},
                   [result("r", "retrieval", 0.5)])
    (row,) = cost_rows(Results([run]))
    assert row.search == "approximate dense index (hnsw)" and row.storage == {} and row.ms_per_query is None
