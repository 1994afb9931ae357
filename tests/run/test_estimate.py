from __future__ import annotations

import pytest

import embedlab
from embedlab.errors import EmbedlabError
from embedlab.models import ModelOptions
from embedlab.models.limits import estimated_tokens
from embedlab.run.estimate import check_cost, cost_line, estimate
from embedlab.run.evaluation import RunOptions, load_tasks
from tests.models.servers import FaultServer


@pytest.fixture
def server():
    s = FaultServer()
    yield s
    s.close()


def test_estimate_sends_nothing_and_predicts_the_run(server, rerank_file, retrieval_dir, tmp_path):
    options = ModelOptions(base_url=server.url, api_key_env="NO_SUCH_VAR", max_inputs=4)
    tasks = load_tasks([rerank_file, retrieval_dir])
    kwargs = {"model": options, "cache": tmp_path / "c.db"}
    before = estimate(["openai:m"], tasks, **kwargs, price_per_mtok=2.0)[0]
    assert server.requests == []
    results = embedlab.evaluate("openai:m", tasks, model=options, run=RunOptions(cache=tmp_path / "c.db"))
    run = results.runs[0]
    assert before["to_embed"] == run.embedding["texts_encoded"] == before["unique_texts"]
    assert before["requests"] == run.model["usage"]["requests"] == len(server.requests)
    assert before["cost"] == pytest.approx(before["tokens"] * 2.0 / 1e6)
    after = estimate(["openai:m"], tasks, **kwargs)[0]
    assert after["cached"] == before["unique_texts"] and after["to_embed"] == after["requests"] == 0
    assert after["cost"] is None  # unknown model, no price given


def test_sampling_is_applied_like_eval(server, tmp_path):
    from tests.conftest import write_jsonl

    rows = [{"query": f"query {i}", "positive": [f"pos {i}"], "negative": [f"neg {i}"]} for i in range(40)]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    row = estimate(["openai:m"], load_tasks(path, RunOptions(sample=10, seed=3)), cache=False,
                   model=ModelOptions(base_url=server.url, api_key_env="NO_SUCH_VAR"))[0]
    assert row["unique_texts"] == 30


def test_token_estimate_counts_cjk_per_character():
    assert estimated_tokens("绿茶八十度") == 5
    assert estimated_tokens("abcdefgh") == 2
    assert estimated_tokens("绿茶 tea") == 3


def test_qianfan_requests_use_its_16_text_cap_and_its_price(monkeypatch, tmp_path):
    from tests.conftest import write_jsonl

    monkeypatch.setenv("QIANFAN_AK", "ak")
    monkeypatch.setenv("QIANFAN_SK", "sk")
    rows = [{"query": f"问题{i}", "positive": [f"答案{i}"], "negative": [f"其他{i}"]} for i in range(20)]
    row = estimate(["qianfan:embedding-v1"], load_tasks(write_jsonl(tmp_path / "r.jsonl", rows)), cache=False)[0]
    assert row["requests"] == 2 + 3  # 20 queries / 16, 40 passages / 16
    assert row["tokens"] == 20 * 3 + 40 * 3 and row["currency"] == "CNY"
    assert row["cost"] == pytest.approx(180 * 2.0 / 1e6)


ROW = {"model": "openai:m", "to_embed": 1200, "cached": 30, "requests": 19, "tokens": 45000, "cost": 0.09,
       "currency": "USD"}


def test_the_line_before_any_request_and_the_refusal():
    assert cost_line(ROW) == ("estimate: openai:m: 1,200 texts to embed (30 cached), 19 requests, "
                              "~45,000 tokens, ~0.0900 USD")
    assert "at most 1,200 texts" in cost_line(ROW, at_most=True)
    assert cost_line({**ROW, "unit": "passages"}).startswith("estimate: openai:m: 1,200 passages to ask (30 cached)")
    check_cost([ROW], max_cost=1.0)
    check_cost([ROW], None)
    with pytest.raises(EmbedlabError, match="not within --max-cost 0.01; nothing was sent"):
        check_cost([ROW], max_cost=0.01)
    with pytest.raises(EmbedlabError, match="unknown cost"):
        check_cost([{**ROW, "cost": None}], max_cost=10.0)


def test_each_kind_is_estimated_as_it_runs(rerank_file, retrieval_dir):
    """A sparse model encodes texts as a dense one does (its row counts them, it does not read zero), a ranker
    encodes nothing, a hybrid is its parts' rows added (run.estimate.ESTIMATES: a row per kind)."""
    from embedlab.models.hybrid import Hybrid
    from tests.conftest import FakeEncoder
    from tests.models.test_hybrid import WordOverlap
    from tests.tiny_kinds import fake_sparse_model

    tasks = load_tasks([rerank_file, retrieval_dir])
    dense, sparse, ranker, hybrid = estimate([FakeEncoder(), fake_sparse_model(), WordOverlap(),
                                              Hybrid([FakeEncoder(), WordOverlap()])], tasks)
    assert sparse["to_embed"] == sparse["unique_texts"] == dense["unique_texts"] > 0
    assert ranker["unique_texts"] == ranker["to_embed"] == 0 and ranker["currency"] == "(local)"
    assert hybrid["unique_texts"] == dense["unique_texts"] and hybrid["model"].startswith("hybrid-rrf")


class Clocked:
    """A local encoder that costs one clock tick per character, on a fake clock: the probe's arithmetic is exact."""

    def __init__(self):
        from tests.conftest import FakeEncoder

        self.clock, self.inner, self.calls = 0.0, FakeEncoder(), []

    def now(self):
        return self.clock

    def encode(self, texts, kind="document"):
        self.calls.append(list(texts))
        self.clock += sum(len(t) for t in texts)
        return self.inner.encode(texts, kind)

    encode_output = encode


def test_a_local_models_time_is_measured_on_a_probe_and_extrapolated(monkeypatch):
    """issue 30, item 8: `estimate` gave no time for local models."""
    import numpy as np

    from embedlab.run.estimate import PROBE_BLOCK, PROBE_STRATA, measure_time

    clocked = Clocked()
    monkeypatch.setattr("embedlab.run.estimate.time.perf_counter", clocked.now)
    rng = np.random.default_rng(0)
    todo = {"query": [f"q{i}" + "x" * int(n) for i, n in enumerate(rng.integers(5, 40, 300))],
            "document": [f"d{i}" + "y" * int(n) for i, n in enumerate(rng.lognormal(4, 0.8, 2000))]}
    row = measure_time(clocked, todo, batch_size=32)
    truth = sum(len(t) for texts in todo.values() for t in texts)
    assert abs(row["seconds"] - truth) / truth < 0.15  # a few dozen texts per kind say how long all of them take
    timed = clocked.calls[1:]  # the first call is the untimed warm-up: the first block, again
    assert clocked.calls[0] == clocked.calls[1] and len(timed) == 2 * PROBE_STRATA
    assert all(len(block) == PROBE_BLOCK for block in timed)
    assert row["time_basis"] == f"measured on {2 * PROBE_STRATA * PROBE_BLOCK} of the 2,300 texts: " \
                                f"{2300 / row['seconds']:,.1f} texts/s"
    assert measure_time(clocked, {"query": [], "document": []}, 32) == {"seconds": 0.0,
                                                                          "time_basis": "nothing to encode"}


def test_estimate_probes_local_models_only_and_only_when_asked(server, rerank_file, retrieval_dir):
    from tests.conftest import FakeEncoder

    tasks = load_tasks([rerank_file, retrieval_dir])
    local = FakeEncoder()
    plain = estimate([local], tasks, cache=False)[0]
    assert "seconds" not in plain and local.calls == []  # estimate alone encodes nothing
    probed = estimate([local], tasks, cache=False, probe=True)[0]
    assert probed["seconds"] >= 0 and probed["time_basis"].startswith("measured on ") and local.calls
    paid = estimate(["openai:m"], tasks, cache=False, probe=True,
                    model=ModelOptions(base_url=server.url, api_key_env="NO_SUCH_VAR"))[0]
    assert "seconds" not in paid and server.requests == []  # a paid model is never sent a probe
