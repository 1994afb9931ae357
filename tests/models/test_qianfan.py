"""Qianfan legacy API (AK/SK -> access token) against a local server speaking its shapes."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import ModelError, UnknownNameError
from embedlab.models import ModelOptions, load_model
from tests.models.servers import QianfanServer, expected


@pytest.fixture
def qianfan(monkeypatch):
    server = QianfanServer()
    monkeypatch.setenv("QIANFAN_AK", server.AK)
    monkeypatch.setenv("QIANFAN_SK", server.SK)
    yield server
    server.close()


def encoder(server, **extra):
    return load_model("qianfan:Embedding-V1", ModelOptions(base_url=server.url, max_retries=3, **extra))


def test_batches_of_16_one_token_and_ordered_vectors(qianfan):
    texts = [f"文本 {i}" for i in range(40)]
    model = encoder(qianfan, concurrency=2)
    np.testing.assert_array_equal(model.encode(texts), expected(texts))
    assert sorted(len(batch) for batch in qianfan.embed_inputs) == [8, 16, 16]  # 2 in flight: any order
    assert qianfan.token_requests == 1 and model.usage["requests"] == 4  # token + 3 batches
    assert model.status() == "4 requests, 40 tokens, 0.0001 CNY"  # 2 CNY per million tokens


def test_qps_limit_and_expired_token_are_survived(qianfan):
    model = encoder(qianfan)
    qianfan.faults = [("code", 18, "Open api qps request limit reached"), ("expire",),
                      ("code", 336501, "Rpm limit reached")]
    np.testing.assert_array_equal(model.encode(["a", "b"]), expected(["a", "b"]))
    assert qianfan.token_requests == 2 and model.usage["retries"] == 3


@pytest.mark.parametrize("code,message", [(17, "Open api daily request limit reached"),
                                          (336003, "Invalid param")])
def test_permanent_codes_fail_fast_without_secrets(qianfan, code, message):
    model = encoder(qianfan)
    qianfan.faults = [("code", code, f"{message} {QianfanServer.SK}")]
    with pytest.raises(ModelError, match=f"Qianfan error {code}") as info:
        model.encode(["a"])
    text = str(info.value) + repr(model)
    assert QianfanServer.SK not in text and QianfanServer.AK not in text and "24.token" not in text


def test_long_texts_are_cut_to_the_char_and_token_limits_and_counted_or_refused(qianfan):
    model = encoder(qianfan)
    chinese, english = "长" * 500, "word " * 400  # 500 tokens (1 per CJK char); 2,000 characters
    vectors = model.encode([chinese, english, "short"])
    sent = qianfan.embed_inputs[-1]
    assert sent[0] == "长" * 384 and sent[1] == english[:1000] and sent[2] == "short"
    assert model.usage["truncated"] == 2
    np.testing.assert_array_equal(vectors, expected(sent))
    model.truncate = False
    with pytest.raises(ModelError, match="exceed embedding-v1's limit of 1000 characters / 384 tokens"):
        model.encode([chinese])


def test_bad_credentials_and_unknown_models(qianfan, monkeypatch):
    monkeypatch.setenv("QIANFAN_SK", "wrong")
    with pytest.raises(ModelError, match="authentication failed: unknown client id") as info:
        encoder(qianfan).encode(["a"])
    assert "wrong" not in str(info.value)
    with pytest.raises(UnknownNameError, match="did you mean 'embedding-v1'"):
        load_model("qianfan:embeding-v1")
    monkeypatch.delenv("QIANFAN_AK")
    with pytest.raises(ModelError, match="QIANFAN_AK and QIANFAN_SK"):
        load_model("qianfan:embedding-v1")
