"""The deployment summary from results alone: baseline first, then by cost; ties with the baseline, free
savings, Pareto frontiers, and the prompt warning."""

from __future__ import annotations

import numpy as np

from embedlab.results import ModelRun, Results, TaskResult
from embedlab.results.deploy import deploy_summaries, is_deploy_run


def run(dim, precision, values, *, prompt="configured", ms=1.0, baseline=False):
    deploy = {"dimension": dim, "precision": precision, "index": "exact", "prompt": prompt,
              "bytes_per_vector": dim * {"float32": 4, "int8": 1, "binary": 0.125}[precision], "of": "m",
              "baseline": baseline}
    ids = [str(i) for i in range(len(values))]
    result = TaskResult("t", "retrieval", "src", "h", "ndcg@10", {"ndcg@10": float(np.mean(values))}, ids,
                        {"ndcg@10": list(values)}, {"index_bytes": 10 * dim}, {"ms_per_query_single": ms})
    return ModelRun({"name": f"m @{dim} {precision}", "deploy": deploy}, {}, [result])


def test_summary_marks_ties_free_savings_and_frontiers():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.3, 1, 200)
    near = base + rng.normal(0, 0.01, 200)
    results = Results([run(64, "float32", base, baseline=True, ms=2.0),
                       run(64, "int8", near),  # tied and 4x smaller: free
                       run(64, "binary", base * 0.5),  # much worse, smallest
                       run(32, "float32", near - 0.001, ms=3.0),  # tied, smaller, slower; dominated by int8
                       run(64, "float32", np.minimum(base + 0.2, 1), prompt="")])
    [summary] = deploy_summaries(results, resamples=2000)
    assert summary.rows[0].variant["precision"] == "float32" and summary.rows[0].delta is None
    assert [row.variant["bytes_per_vector"] for row in summary.rows[1:]] == sorted(
        row.variant["bytes_per_vector"] for row in summary.rows[1:])
    by_precision = {(r.variant["dimension"], r.variant["precision"], r.variant["prompt"]): r for r in summary.rows}
    int8, binary, half = by_precision[(64, "int8", "configured")], by_precision[(64, "binary", "configured")], \
        by_precision[(32, "float32", "configured")]
    assert int8.tied and int8.free and int8.frontier_bytes
    assert not binary.tied and binary.frontier_bytes and not binary.free
    assert not half.frontier_bytes  # int8 at 64 bytes scores higher
    assert len(summary.notes) == 1 and "without a prompt score" in summary.notes[0]
    assert all(is_deploy_run(r) for r in results.runs)
