"""The notes a run's results call for: one line per thing a user must know, from the results alone."""

from __future__ import annotations

import embedlab
from embedlab.report.notes import cost_note, result_notes
from embedlab.run.options import RunOptions
from tests.conftest import FakeEncoder


def test_samples_skipped_rows_usage_and_approximate_search_are_noted(rerank_file, retrieval_dir):
    results = embedlab.evaluate(FakeEncoder(), [rerank_file, retrieval_dir], run=RunOptions(sample=2, seed=3))
    run = results.runs[0]
    run.model["usage"] = {"requests": 12, "retries": 2, "timeouts": 3, "splits": 1, "prompt_tokens": 3456, "truncated": 1}
    run.embedding["approximate_search"] = {"beir": {"method": "hnsw", "recall@10_vs_exact": 0.9, "ndcg@10_change": -0.01,
                                                    "ndcg@10_change_ci95": [-0.02, 0.0], "queries_sampled": 5}}
    notes = result_notes(results)
    rows = results.runs[0].tasks[0].sample
    assert f"{results.runs[0].tasks[0].task}: seeded sample of {rows['n']:,} of {rows['of']:,} (seed 3)" in notes
    assert ("fake-bigram: 12 requests (2 retried, 3 timed out, 1 split), 3,456 tokens billed, "
            f"{run.embedding['cache_hits']:,} texts from the cache; 1 texts truncated to the model's limit") in notes
    assert ("fake-bigram on beir: hnsw: recall@10 0.9000 against exact search, ndcg@10 -0.0100 [-0.0200, +0.0000] "
            "on 5 sampled queries (seeded)") in notes
    assert cost_note(run.embedding["approximate_search"]["beir"]) in notes[-1]


def test_only_what_happened_is_said(retrieval_dir, rerank_file):
    # the fixtures hold a query without judgments and a row without negatives, as mteb skips them: nothing else
    assert result_notes(embedlab.evaluate(FakeEncoder(), [retrieval_dir])) == \
        ["beir: skipped 1 no judgments (as mteb does)"]
    assert result_notes(embedlab.evaluate(FakeEncoder(), [rerank_file])) == \
        ["rerank: skipped 1 no negative (as mteb does)"]


def test_a_pruned_sample_says_what_it_does_to_scores(retrieval_dir):
    results = embedlab.evaluate(FakeEncoder(), [retrieval_dir], run=RunOptions(sample=2, seed=3, prune_corpus=1))
    assert "beir: seeded sample of 2 of 3 (seed 3), corpus pruned to their judged documents + 1 others: scores are " \
           "higher than on the whole corpus" in result_notes(results)
