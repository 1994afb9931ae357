import numpy as np
import scipy.stats

from embedlab.finetune.health import collapse_indicators, collapse_warnings


def unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_healthy_vs_collapsed_embeddings():
    rng = np.random.default_rng(0)
    healthy = unit(rng.normal(size=(200, 64)))
    collapsed = unit(np.ones((200, 64)) + 0.01 * rng.normal(size=(200, 64)))
    h = collapse_indicators(healthy[:20], healthy)
    c = collapse_indicators(collapsed[:20], collapsed)
    assert abs(h["mean_pairwise_cosine"]) < 0.02 and c["mean_pairwise_cosine"] > 0.99
    assert h["effective_rank"] > 40 and c["effective_rank"] < 3
    assert c["score_spread"] < 0.1 * h["score_spread"]
    assert collapse_warnings(h, h) == []
    warnings = collapse_warnings(h, c)
    assert len(warnings) == 3 and "collapsing" in warnings[0]


def test_indicators_match_direct_definitions():
    rng = np.random.default_rng(1)
    passages, queries = unit(rng.normal(size=(30, 8))), unit(rng.normal(size=(5, 8)))
    got = collapse_indicators(queries, passages)
    pairs = [float(passages[i] @ passages[j]) for i in range(30) for j in range(30) if i != j]
    singular = np.linalg.svd(passages.astype(np.float64), compute_uv=False)
    assert np.isclose(got["mean_pairwise_cosine"], np.mean(pairs), atol=1e-6)
    assert np.isclose(got["effective_rank"], np.exp(scipy.stats.entropy(singular / singular.sum())))
    assert np.isclose(got["score_spread"], np.std(queries @ passages.T), atol=1e-6)
    orthonormal = np.eye(8, dtype=np.float32)
    assert np.isclose(collapse_indicators(orthonormal, orthonormal)["effective_rank"], 8)


def test_health_sample_is_seeded_distinct_and_capped():
    from embedlab.demo import RERANKING
    from embedlab.finetune.health import health_sample
    from embedlab.run.evaluation import load_tasks

    task = load_tasks(RERANKING, expect="reranking")[0]
    queries, passages = health_sample(task, queries=5, passages=1000)
    assert len(queries) == len(set(queries)) == 5 and set(queries) <= set(task.texts("query"))
    assert sorted(passages) == sorted(set(task.texts("document")))  # fewer than asked: all of them
    assert health_sample(task, queries=5, passages=1000) == (queries, passages)
    assert health_sample(task, queries=5, seed=1)[0] != queries
