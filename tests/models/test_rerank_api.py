"""API rerankers against real local HTTP servers: the /rerank shape (faults injected) and Qianfan's reranker."""

from __future__ import annotations

import numpy as np
import pytest

import embedlab
from embedlab.errors import EmbedlabError, ModelError
from embedlab.models import ModelOptions, load_model
from embedlab.run.evaluation import IncompleteRun, RunOptions
from tests.conftest import RERANK_ROWS
from tests.models.servers import QianfanServer, RerankServer, fake_relevance

PAIRS = [("brew green tea", "green tea at 80 degrees"), ("brew green tea", "black tea"),
         ("brew green tea", "coffee beans"), ("water a cactus", "a cactus needs water"),
         ("water a cactus", "ferns like humid air")]


@pytest.fixture
def server():
    running = RerankServer()
    yield running
    running.close()


def api(url: str, **extra) -> ModelOptions:
    return ModelOptions(base_url=url, api_key_env="none", max_retries=3, **extra)


def expected(pairs) -> np.ndarray:
    return np.array([fake_relevance(q, d) for q, d in pairs], dtype=np.float32)


def test_scores_come_back_in_the_order_sent_one_query_per_request(server):
    reranker = load_model("rerank:bge-reranker", api(server.url, max_inputs=2))
    np.testing.assert_array_equal(reranker.score_pairs(PAIRS), expected(PAIRS))
    # never two queries in one request (the 2nd and 3rd are in flight together: either may arrive first)
    assert [len(r["documents"]) for r in server.requests] in ([2, 1, 2], [2, 2, 1])
    assert all(r["top_n"] == len(r["documents"]) and r["model"] == "bge-reranker" for r in server.requests)
    assert set(server.paths) == {"/v1/rerank"} and reranker.usage["prompt_tokens"] > 0
    assert reranker.paid and reranker.info()["base_url"].endswith("/v1/rerank")


@pytest.mark.parametrize("shape", ["data", "list"])
def test_voyage_and_tei_answers_are_read(shape):
    server = RerankServer(shape=shape)
    try:
        reranker = load_model("rerank:m", api(server.url))
        np.testing.assert_array_equal(reranker.score_pairs(PAIRS), expected(PAIRS))
    finally:
        server.close()


def test_a_base_url_naming_the_endpoint_is_used_as_it_is():
    server = RerankServer(path="/v2")
    try:
        load_model("rerank:m", api(server.url + "/rerankers")).score_pairs(PAIRS[:1])
        assert server.paths == ["/v2/rerankers"]
    finally:
        server.close()


def test_busy_and_broken_servers_are_retried(server):
    server.faults = [("malformed",), ("status", 429, {"Retry-After": "0"}, {"message": "slow down"}),
                     ("status", 503, {}, {"error": "busy"})]
    reranker = load_model("rerank:m", api(server.url))
    np.testing.assert_array_equal(reranker.score_pairs(PAIRS[:3]), expected(PAIRS[:3]))
    assert reranker.usage["retries"] == 3


def test_a_request_too_slow_is_split(server):
    server.faults = [("slow", 1.5)]
    reranker = load_model("rerank:m", api(server.url, timeout=0.5, max_inputs=4))
    np.testing.assert_array_equal(reranker.score_pairs(PAIRS[:3]), expected(PAIRS[:3]))
    assert [len(r["documents"]) for r in server.requests][-2:] == [1, 2]


@pytest.mark.parametrize("fault,match", [
    (("count", 1), "2 results returned for 3 documents sent"),
    (("nan",), "NaN/inf score"),
    (("missing",), "returned twice .*1 missing"),
    (("range",), "index 6 returned .*outside 0..2"),
    (("float",), "not a whole number"),
    (("status", 401, {}, {"message": "invalid api key"}), "HTTP 401: invalid api key"),
])
def test_a_wrong_answer_is_one_line_and_not_retried(server, fault, match):
    server.faults = [fault]
    with pytest.raises(ModelError, match=match) as caught:
        load_model("rerank:m", api(server.url)).score_pairs(PAIRS[:3])
    assert "\n" not in str(caught.value) and server.url.split("/v1")[0] in str(caught.value)
    assert len(server.requests) == 1


def test_an_endpoint_is_needed():
    with pytest.raises(ModelError, match="rerank:m needs its endpoint"):
        load_model("rerank:m", ModelOptions(api_key_env="none"))


def test_a_rerun_sends_nothing_and_a_killed_run_pays_only_what_is_missing(server, rerank_file, tmp_path):
    cache = tmp_path / "cache.sqlite"
    server.faults = [None, None, ("status", 400, {}, {"message": "quota exceeded"})]
    with pytest.raises(IncompleteRun, match="quota exceeded"):
        embedlab.evaluate("rerank:m", [rerank_file], model=api(server.url, max_inputs=2, concurrency=1),
                          run=RunOptions(cache=cache))
    paid_before = sum(len(r["documents"]) for r in server.requests[:2])
    server.requests.clear()
    done = embedlab.evaluate("rerank:m", [rerank_file], model=api(server.url, max_inputs=2, concurrency=1),
                             run=RunOptions(cache=cache))
    total = sum(len(row["positive"]) + len(row["negative"]) for row in RERANK_ROWS[:3])  # the 4th row is skipped
    assert paid_before == 4 and sum(len(r["documents"]) for r in server.requests) == total - paid_before
    server.requests.clear()
    again = embedlab.evaluate("rerank:m", [rerank_file], model=api(server.url), run=RunOptions(cache=cache))
    assert server.requests == [] and again.runs[0].tasks[0].scores == done.runs[0].tasks[0].scores
    assert again.runs[0].embedding["cache_hits"] == total


def test_two_stage_with_an_api_reranker_is_estimated_and_capped(server, retrieval_dir, fake_encoder, tmp_path):
    lines = []
    run = RunOptions(reranker="rerank:m", rerank_depths=(4,), cache=tmp_path / "c.sqlite", announce=lines.append,
                     reranker_options=api(server.url), price_per_mtok=1000.0, max_cost=0.0001)
    with pytest.raises(EmbedlabError, match="not within --max-cost"):
        embedlab.evaluate(fake_encoder, [retrieval_dir], run=run)
    assert server.requests == [] and "at most 12 pairs to score" in lines[0]
    run.max_cost = 10.0
    results = embedlab.evaluate(fake_encoder, [retrieval_dir], run=run)
    staged = results.runs[1]
    assert len(server.requests) == 3 and staged.tasks[0].counts["rerank_tokens_billed"] > 0
    assert staged.model["price_per_mtok"] == 1000.0 and staged.model["reranker_model"]["usage"]["requests"] == 3


@pytest.fixture
def qianfan(monkeypatch):
    server = QianfanServer()
    monkeypatch.setenv("QIANFAN_AK", server.AK)
    monkeypatch.setenv("QIANFAN_SK", server.SK)
    yield server
    server.close()


def test_qianfan_reranker(qianfan):
    reranker = load_model("qianfan-rerank:bce-reranker-base_v1", ModelOptions(base_url=qianfan.url))
    long = [("绿茶怎么泡", "绿茶" * 2100)] + [("绿茶怎么泡", f"第{i}段") for i in range(70)]
    scores = reranker.score_pairs(long)
    np.testing.assert_array_equal(scores[1:], expected(long[1:]))
    assert [len(b["documents"]) for b in qianfan.rerank_bodies] == [64, 7]  # Qianfan's cap per request
    assert reranker.usage["truncated"] == 1 and len(qianfan.rerank_bodies[0]["documents"][0]) == 4096
    assert reranker.name == "qianfan-rerank:bce-reranker-base_v1" and qianfan.AK not in repr(reranker.info())


def test_qianfan_reranker_refreshes_its_token_and_names_bad_models(qianfan):
    reranker = load_model("qianfan-rerank:bce_reranker_base_v1", ModelOptions(base_url=qianfan.url))
    qianfan.faults = [("expire",)]
    np.testing.assert_array_equal(reranker.score_pairs(PAIRS[:2]), expected(PAIRS[:2]))
    assert qianfan.token_requests == 2
    with pytest.raises(EmbedlabError, match="unknown Qianfan reranker 'bge-reranker'"):
        load_model("qianfan-rerank:bge-reranker", ModelOptions(base_url=qianfan.url))


def test_a_paid_reranker_given_as_a_model_is_estimated_and_capped(server, rerank_file):
    lines = []
    with pytest.raises(EmbedlabError, match="rerank:m: estimated cost .* not within --max-cost"):
        embedlab.evaluate("rerank:m", [rerank_file], model=api(server.url),
                          run=RunOptions(cache=False, price_per_mtok=1000.0, max_cost=1e-6, announce=lines.append))
    assert server.requests == [] and lines[0].startswith("estimate: rerank:m: 12 pairs to score (0 cached)")


@pytest.mark.parametrize("suffix", ["", "/rerank"])
def test_a_base_url_with_a_query_string_is_recorded_and_sent_path_first(server, suffix):
    """Issue 24 item 16: `.../v1?v=2` was recorded as `.../v1?v=2/rerank`; a credential parameter is sent only."""
    reranker = load_model("rerank:m", api(f"{server.url}{suffix}?v=2&subscription-key=RSECRET-77"))
    np.testing.assert_array_equal(reranker.score_pairs(PAIRS[:1]), expected(PAIRS[:1]))
    assert server.paths == ["/v1/rerank?v=2&subscription-key=RSECRET-77"]
    assert reranker.info()["base_url"] == f"{server.url}/rerank?v=2"
    assert reranker.cache_key() == f"rerank|{server.url}/rerank?v=2|m"
    assert "RSECRET" not in repr(reranker) + repr(reranker.info())


def test_a_pair_that_always_times_out_is_named(server, quick_backoff):
    server.faults = [("slow", 1.0)] * 3
    reranker = load_model("rerank:m", api(server.url, timeout=0.3))
    with pytest.raises(ModelError) as caught:
        reranker.score_pairs(PAIRS[:1])
    assert str(caught.value) == (f"rerank:m at {server.url}: one pair (document 'green tea at 80 degrees' of query "
                                 "'brew green tea') timed out after 0.3 s, 2 times; raise --timeout (now 0.3 s) or "
                                 "lower --concurrency")
    assert len(server.requests) == 2 and reranker.usage["timeouts"] == 2 and reranker.usage["splits"] == 0
