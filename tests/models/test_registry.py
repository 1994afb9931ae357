"""Backends by name: built-ins, plugins by entry point (Model subclasses, whose `paid` is read before use)."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import numpy as np
import pytest

import embedlab
from embedlab.errors import EmbedlabError, ModelError, UnknownNameError
from embedlab.models import registry
from embedlab.models.base import Encoder
from embedlab.run.evaluation import RunOptions


class PaidPlugin(Encoder):
    paid = True
    encoded: list = []

    def __init__(self, spec, options):
        self.name = f"paidplug:{spec}"

    def encode(self, texts, kind="document"):
        PaidPlugin.encoded.extend(texts)
        return np.ones((len(texts), 4), dtype=np.float32)

    def price_per_mtok(self):
        return (100.0, "USD")


def not_a_model(spec, options):
    return object()


@pytest.fixture
def plugins(monkeypatch):
    entries = [EntryPoint("paidplug", f"{__name__}:PaidPlugin", "embedlab.models"),
               EntryPoint("oldstyle", f"{__name__}:not_a_model", "embedlab.models")]
    monkeypatch.setattr(registry, "entry_points", lambda group: entries if group == "embedlab.models" else [])
    PaidPlugin.encoded = []


def test_names_select_backends():
    assert registry.backend_of("BAAI/bge-small-zh-v1.5") == "st" == registry.backend_of("./models/x")
    assert registry.backend_of("openai:text-embedding-3-small") == "openai"
    assert registry.backend_of("http://host/v1") == "st"  # a URL is not a prefix
    assert registry.backend_class("qianfan:embedding-v1").paid and not registry.backend_class("st:x").paid
    with pytest.raises(UnknownNameError, match="did you mean 'openai'"):
        registry.backend_class("opnai:m")


def test_a_paid_plugin_gets_the_cost_check_before_anything_is_sent(plugins, rerank_file):
    assert "paidplug" in registry.backends() and "paidplug:<name>: plugin" in registry.backend_help()
    lines = []
    with pytest.raises(EmbedlabError, match="not within --max-cost 0.0001; nothing was sent"):
        embedlab.evaluate("paidplug:m", rerank_file, run=RunOptions(max_cost=0.0001, cache=False,
                                                                     announce=lines.append))
    assert PaidPlugin.encoded == [] and lines and lines[0].startswith("estimate: paidplug:m:")
    results = embedlab.evaluate("paidplug:m", rerank_file, run=RunOptions(max_cost=10.0, cache=False))
    assert results.runs[0].model["name"] == "paidplug:m" and PaidPlugin.encoded


def test_a_plugin_that_is_not_a_model_class_is_refused(plugins):
    with pytest.raises(ModelError, match="'oldstyle' .* is not a subclass of embedlab.models.base.Encoder"):
        registry.load_model("oldstyle:m")


def test_a_standalone_backend_is_named_by_its_prefix_alone():
    assert registry.backend_of("bm25") == "bm25" == registry.backend_of("bm25:word")
    assert registry.backend_of("bm25x") == "st"  # only the exact name
    assert "bm25:<name>:" in registry.backend_help()
    with pytest.raises(UnknownNameError, match="BM25 tokenizer 'wrod'"):  # checked before anything loads
        registry.backend_class("bm25:wrod")


def test_load_reranker_takes_pair_scorers_only_and_reranker_options_drop_first_stage_settings():
    from embedlab.models.base import ModelOptions
    from embedlab.models.registry import load_reranker, reranker_options
    from tests.conftest import FakeEncoder

    assert load_reranker(None, ModelOptions()) is None
    with pytest.raises(ModelError, match="'fake-bigram' is not a reranker.*--reranker takes a cross-encoder"):
        load_reranker(FakeEncoder(), ModelOptions())
    options = reranker_options(ModelOptions(query_instruction="q: ", max_length=64, batch_size=8))
    assert (options.query_instruction, options.max_length, options.batch_size) == (None, None, 8)


def test_chat_models_are_found_by_prefix_and_never_taken_for_embedding_models():
    from embedlab.models.chat import OpenAIChat
    from embedlab.models.qianfan_chat import QianfanChat
    from embedlab.models.registry import BUILTIN, chat_class

    assert chat_class("openai-chat:qwen2.5-7b-instruct") is OpenAIChat
    assert chat_class("qianfan-chat:ernie-3.5-8k") is QianfanChat
    assert "openai-chat" not in BUILTIN  # `-m openai-chat:x` is not a model eval could score
    for bad in ("openai:gpt-4o", "openai-chat:", "gpt-4o"):
        with pytest.raises(UnknownNameError, match="chat model backend"):
            chat_class(bad)


@pytest.mark.parametrize("spec,needs", [
    ("bm25", {"bm25s", "jieba", "Stemmer"}),
    ("./model", {"torch", "sentence_transformers"}),
    ("openai:text-embedding-3-small", {"httpx", "tenacity"}),
    ("qianfan:embedding-v1", {"httpx", "tenacity"}),
    ("rerank:jina-reranker-v2", {"httpx", "tenacity"}),
    ("ce:./reranker", {"torch", "sentence_transformers"}),
    ("sparse:./splade", {"torch", "sentence_transformers", "scipy.sparse"}),
    ("m3:./bge-m3#dense", {"torch", "FlagEmbedding", "scipy.sparse"}),
    ("hybrid:bm25+openai:x", {"bm25s", "jieba", "Stemmer", "httpx", "tenacity"}),
])
def test_every_backend_declares_the_optional_modules_it_needs(spec, needs):
    from embedlab.errors import PROVIDERS

    declared = registry.backend_class(spec).requires_for(registry.name_part(spec))
    assert set(declared) == needs and set(declared) <= set(PROVIDERS)


def test_check_installed_names_every_missing_package_and_one_command(monkeypatch):
    import sys

    from embedlab.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "bm25s", None)
    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(MissingDependencyError) as caught:
        registry.check_installed(["./model", "hybrid:bm25+openai:x"], reranker="rerank:r",
                                 others=[("json", "--index exact")])
    assert str(caught.value).startswith("-m hybrid:bm25+openai:x needs 'bm25s', 'httpx'; --reranker rerank:r needs "
                                        "'httpx', which are not installed: pip install 'embedlab[bm25,api]'")
    registry.check_installed(["./model", "ce:./reranker"])  # all there: nothing raised
