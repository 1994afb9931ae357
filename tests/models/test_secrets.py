"""Secrets never leak, in any representation, and a broken key is one clear line, never retried."""

from __future__ import annotations

import base64
import json
import logging
import random
import string
from urllib.parse import quote, quote_plus, unquote, urlencode

import httpx
import pytest

import embedlab
from embedlab.errors import ModelError
from embedlab.models import ModelOptions, load_model
from embedlab.models.credentials import PUBLIC_PARAMS, parse_endpoint, redact
from embedlab.run.evaluation import RunOptions
from tests.models.servers import FaultServer

KEY = "sk-test-SECRET-0123456789"


@pytest.fixture
def server():
    s = FaultServer()
    yield s
    s.close()


def test_a_key_with_a_trailing_newline_is_stripped(server, monkeypatch):
    monkeypatch.setenv("EMB_KEY", KEY + "\n")
    encoder = load_model("openai:m", ModelOptions(base_url=server.url, api_key_env="EMB_KEY"))
    encoder.encode(["x"])
    assert server.headers_seen[0]["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("bad", [KEY[:5] + "\n" + KEY[5:], KEY + "…", KEY[:5] + "\t" + KEY[5:]])
def test_a_key_that_cannot_go_in_a_header_is_one_line_that_never_shows_it(server, monkeypatch, bad):
    monkeypatch.setenv("EMB_KEY", bad)
    with pytest.raises(ModelError, match="EMB_KEY has a character that cannot be sent in an HTTP header") as caught:
        load_model("openai:m", ModelOptions(base_url=server.url, api_key_env="EMB_KEY"))
    assert "SECRET" not in str(caught.value) and server.requests == []


def test_a_local_protocol_error_is_not_retried_and_is_redacted(server, monkeypatch):
    monkeypatch.setenv("EMB_KEY", KEY)
    encoder = load_model("openai:m", ModelOptions(base_url=server.url, api_key_env="EMB_KEY", max_retries=5))
    calls = []

    def refuse(*args, **kwargs):
        calls.append(1)
        raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {KEY}\\n'")
    monkeypatch.setattr(encoder._client, "post", refuse)
    with pytest.raises(ModelError, match="cannot be sent: LocalProtocolError") as caught:
        encoder.encode(["x"])
    assert len(calls) == 1 and "SECRET" not in str(caught.value) and encoder.usage["retries"] == 0


def test_credentials_in_the_base_url_are_sent_but_never_stored_logged_or_shown(server, tmp_path, rerank_file,
                                                                             caplog):
    url = server.url.replace("http://", "http://alice:pa55-SECRET@") + "?api-version=2024-06-01&api-key=QSECRET99"
    basic = base64.b64encode(b"alice:pa55-SECRET").decode()
    server.faults = [("status", 401, {}, {"error": {"message": f"bad credentials Basic {basic} QSECRET99"}})]
    options = ModelOptions(base_url=url, api_key_env="none")
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ModelError, match="HTTP 401") as caught:
            load_model("openai:m", options).encode(["x"])
        results = embedlab.evaluate("openai:m", rerank_file, model=options,
                                    run=RunOptions(cache=tmp_path / "c.sqlite"))
    assert server.headers_seen[0]["Authorization"] == f"Basic {basic}"
    assert server.paths[0] == "/v1/embeddings?api-version=2024-06-01&api-key=QSECRET99"  # path before query
    shown = results.runs[0].model["base_url"]
    assert shown == f"{server.url}?api-version=2024-06-01"
    everything = [str(caught.value), results.to_json(), caplog.text, (tmp_path / "c.sqlite").read_bytes().decode("latin-1")]
    for text in everything:
        for secret_form in ("pa55-SECRET", basic, "QSECRET99"):
            assert secret_form not in text
    assert "POST" in caplog.text  # the request was logged, redacted


def test_every_representation_is_redacted():
    secret = 'p"a\\ss/wörd+1'
    text = " ".join([secret, repr(secret), json.dumps(secret), base64.b64encode(secret.encode()).decode(),
                     "pa%22"])
    assert "wörd" not in redact(text, [secret]) and "d29y" not in redact(text, [secret])
    endpoint = parse_endpoint("https://u:p%40ss@host:8443/v1/?key=K123&x=1")
    assert endpoint.url == "https://host:8443/v1" and endpoint.auth == ("u", "p@ss")
    assert endpoint.shown == "https://host:8443/v1" and "K123" in endpoint.secrets  # x=1: not known harmless
    assert not endpoint.local and parse_endpoint("http://localhost:8000/v1").local


@pytest.mark.parametrize("name", ["subscription-key", "code", "access_key", "x-api-key", "auth",
                                  "Ocp-Apim-Subscription-Key", "sv"])
def test_query_parameters_outside_the_allow_list_are_sent_but_never_stored_logged_or_shown(server, tmp_path,
                                                                                         rerank_file, caplog, name):
    """Issue 24 item 15: only parameters known to be harmless (api-version...) are kept in what is stored or
    shown; every other one is a credential (Azure API Management's subscription-key, Azure Functions' code...)."""
    value = f"QP-{name}-SECRET-4242"
    url = f"{server.url}?api-version=2024-06-01&{name}={value}"
    server.faults = [("status", 401, {}, {"error": {"message": f"bad {name}: {value}"}})]
    options = ModelOptions(base_url=url, api_key_env="none")
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ModelError, match="HTTP 401") as caught:
            load_model("openai:m", options).encode(["x"])
        results = embedlab.evaluate("openai:m", rerank_file, model=options,
                                    run=RunOptions(cache=tmp_path / "c.sqlite"))
    assert server.paths[0] == f"/v1/embeddings?api-version=2024-06-01&{name}={value}"  # sent
    encoder = load_model("openai:m", options)
    assert results.runs[0].model["base_url"] == encoder.base_url == f"{server.url}?api-version=2024-06-01"
    everything = [str(caught.value), results.to_json(), caplog.text, repr(encoder), encoder.cache_key("query"),
                  (tmp_path / "c.sqlite").read_bytes().decode("latin-1")]
    assert "POST" in caplog.text and all(value not in text and "4242" not in text for text in everything)


def test_only_known_harmless_parameters_are_shown():
    endpoint = parse_endpoint("https://h/v1?api-version=1&v=2&version=3&code=abcd1234&auth=tok-xyz&empty=")
    assert endpoint.shown == "https://h/v1?api-version=1&v=2&version=3"
    assert {"abcd1234", "tok-xyz"} <= set(endpoint.secrets)
    assert endpoint.params == {"api-version": "1", "v": "2", "version": "3", "code": "abcd1234", "auth": "tok-xyz",
                               "empty": ""}  # all still sent
    assert endpoint.shown_at("/rerank") == "https://h/v1/rerank?api-version=1&v=2&version=3"


@pytest.mark.parametrize("seed", range(25))
def test_fuzzed_base_urls_store_and_show_only_harmless_parameters(seed):
    """Random query strings (credentials under any name, harmless parameters in any case) and a user:password:
    no value outside the allow-list reaches a base URL, cache key, repr or info of either API backend, and a
    log line with the whole URL is redacted."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "-_.~+/=%&? é"
    names = ["subscription-key", "code", "access_key", "x-api-key", "auth", "sig", "se", "deployment", "token", "X",
             "API-Version", "api_version", "v", "Version", "".join(rng.choices(string.ascii_lowercase, k=5))]
    params = [(name, f"S{seed}{i}-" + "".join(rng.choices(alphabet, k=rng.randrange(6, 30))))
              for i, name in enumerate(rng.sample(names, rng.randrange(1, 7)))]
    password = f"PW{seed}-" + "".join(rng.choices(string.ascii_letters, k=8))
    url = f"https://user{seed}:{quote(password)}@api.example.com:8443/v{seed}?{urlencode(params)}"
    options = ModelOptions(base_url=url, api_key_env="none")
    encoder, reranker = load_model("openai:m", options), load_model("rerank:m", options)
    stored = [encoder.base_url, encoder.cache_key("query"), repr(encoder), json.dumps(encoder.info()),
              reranker.cache_key(), repr(reranker), json.dumps(reranker.info()),
              redact(f"HTTP Request: POST {url} and {unquote(url)}", encoder.endpoint.secrets)]
    hidden = [value for name, value in params if name.lower() not in PUBLIC_PARAMS] + [password]
    for value in hidden:
        assert all(value not in text and quote_plus(value) not in text for text in stored), value
    for name, value in params:
        if name.lower() in PUBLIC_PARAMS:
            assert f"{name}={quote_plus(value)}" in encoder.base_url
