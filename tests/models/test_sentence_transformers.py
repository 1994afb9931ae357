"""The local backend on real models: the bundled MiniLM and a tiny random BERT built from a config."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import ModelError, UnknownNameError
from embedlab.models import ModelOptions, load_model

pytest.importorskip("sentence_transformers")


@pytest.fixture(scope="module")
def minilm_path():
    from embedlab.demo import default_model

    return default_model()


def test_bundled_model_encodes_and_applies_the_instruction_to_queries_only(minilm_path):
    plain = load_model(minilm_path)
    instructed = load_model(f"st:{minilm_path}", ModelOptions(query_instruction="search: ", max_length=64))
    texts = ["how to brew green tea", "tea brewing temperature"]
    docs_plain, docs_instr = plain.encode(texts, "document"), instructed.encode(texts, "document")
    assert docs_plain.shape == (2, 384) and docs_plain.dtype == np.float32
    np.testing.assert_allclose(docs_plain, docs_instr, atol=1e-5)
    query = instructed.encode(texts[:1], "query")
    assert not np.allclose(query, docs_plain[:1], atol=1e-3)
    np.testing.assert_allclose(query, plain.encode(["search: " + texts[0]], "document"), atol=1e-5)
    info = instructed.info()
    assert info["dimension"] == 384 and info["max_length"] == 64 and info["device"] == "cpu"
    assert info["revision"].startswith("dir-sha256:") and info["query_instruction"] == "search: "


def test_tiny_random_bert_from_a_config_with_configured_prompts(tmp_path):
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "q", ":", "tea", "water", "hot"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab))
    tokenizer = BertTokenizerFast(str(tmp_path / "vocab.txt"))
    bert = BertModel(BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                                num_attention_heads=2, intermediate_size=32))
    bert.save_pretrained(tmp_path / "bert")
    tokenizer.save_pretrained(tmp_path / "bert")
    module = models.Transformer(str(tmp_path / "bert"))
    model = SentenceTransformer(modules=[module, models.Pooling(16, "mean")],
                                prompts={"query": "q : "}, default_prompt_name=None)
    model.save(str(tmp_path / "st"))
    encoder = load_model(str(tmp_path / "st"))
    assert encoder.instructions == {"query": "q : ", "document": ""}
    assert encoder.encode(["tea hot"], "query").shape == (1, 16)
    assert not np.allclose(encoder.encode(["tea hot"], "query"), encoder.encode(["tea hot"], "document"))


def test_unknown_backend_and_missing_model(tmp_path):
    with pytest.raises(UnknownNameError, match="did you mean 'st'"):
        load_model("sx:whatever")
    with pytest.raises(ModelError, match="cannot load model"):
        load_model(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE=1"):
        load_model("embedlab-tests/not-a-real-model")


def test_device_is_cuda_when_present_and_the_model_runs_fp16_there(monkeypatch, minilm_path):
    import torch

    from embedlab.models import sentence_transformers as backend

    assert backend.pick_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert backend.pick_device(None) == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert backend.pick_device(None) == "cpu"

    halved = []
    monkeypatch.setattr(backend, "pick_device", lambda requested: "cuda")
    monkeypatch.setattr("sentence_transformers.SentenceTransformer.half",
                        lambda self: halved.append(True) or self)
    monkeypatch.setattr("sentence_transformers.SentenceTransformer.__init__",
                        _init_on_cpu_instead_of(minilm_path))
    backend.SentenceTransformerEncoder(minilm_path)
    assert halved == [True]


def _init_on_cpu_instead_of(path):
    from sentence_transformers import SentenceTransformer

    original = SentenceTransformer.__init__

    def init(self, *args, device=None, **kwargs):
        original(self, *args, device="cpu", **kwargs)  # no GPU here: load on CPU, keep the CUDA branch
    return init


def test_the_cache_never_serves_vectors_of_other_settings(minilm_path, tmp_path, rerank_file):
    """Same model and cache, another instruction, then another max length: new vectors each time,
    equal to an uncached run with those settings (the first release served the first run's vectors)."""
    import embedlab
    from embedlab.run.evaluation import RunOptions

    cached = RunOptions(cache=tmp_path / "cache.sqlite")
    settings = [ModelOptions(), ModelOptions(query_instruction="search: "),
                ModelOptions(query_instruction="search: ", max_length=6)]
    queries = 3
    for options, encoded in zip(settings, (None, queries, None)):
        through_cache = embedlab.evaluate(minilm_path, rerank_file, model=options, run=cached).runs[0]
        fresh = embedlab.evaluate(minilm_path, rerank_file, model=options).runs[0]
        assert through_cache.tasks[0].per_query == fresh.tasks[0].per_query
        # the instruction changes queries only (documents come from the cache); max length changes all
        expected = encoded or fresh.embedding["texts_encoded"]
        assert through_cache.embedding["texts_encoded"] == expected
    keys = {load_model(minilm_path, options).cache_key("query") for options in settings}
    assert len(keys) == 3
    again = embedlab.evaluate(minilm_path, rerank_file, model=settings[2], run=cached).runs[0]
    assert again.embedding["texts_encoded"] == 0 and again.embedding["cache_hits"] > 0


def test_a_huge_text_is_cut_before_the_tokenizer_with_the_same_vector(tiny_model):
    """A 50 MB line took 246 s and 8.6 GB in the first release; the tokenizer keeps max_length tokens anyway."""
    from embedlab.models.sentence_transformers import CHARS_PER_TOKEN_BOUND

    encoder = load_model(str(tiny_model))
    limit = CHARS_PER_TOKEN_BOUND * encoder.model.max_seq_length
    huge = "green tea is brewed at eighty degrees " * (limit // 10)
    (cut,) = encoder.encode([huge])
    assert encoder.info()["texts_cut_before_tokenizing"] == 1
    full = encoder.model.encode([huge], convert_to_numpy=True)[0]  # the library on the whole text
    np.testing.assert_allclose(cut, full, atol=1e-6)


def test_at_max_length_holds_only_inside_the_block_and_model_revision_tracks_the_files(tiny_model, tmp_path):
    from embedlab.models.sentence_transformers import at_max_length, load_sentence_transformer, model_revision

    model = load_sentence_transformer(str(tiny_model), "cpu")
    assert model.max_seq_length == 64
    with at_max_length(model, 16):
        assert model.max_seq_length == 16
    with pytest.raises(RuntimeError), at_max_length(model, 8):
        raise RuntimeError
    assert model.max_seq_length == 64
    with at_max_length(model, None):
        assert model.max_seq_length == 64
    before = model_revision(str(tiny_model))
    assert before.startswith("dir-sha256:") and model_revision(str(tiny_model)) == before
    assert model_revision(str(tmp_path / "absent")) is None


def test_worker_loader_loads_the_same_model_on_the_workers_device(tiny_model):
    from embedlab.models.base import ModelOptions
    from embedlab.models.sentence_transformers import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder(str(tiny_model), ModelOptions(max_length=16, batch_size=8))
    loader = encoder.worker_loader("cuda")  # --gpus-per-worker: the workers run on CUDA (fp16), whatever the driver
    assert loader.func is SentenceTransformerEncoder and loader.args[0] == str(tiny_model)
    assert loader.args[1].device == "cuda" and loader.args[1].max_length == 16 and loader.args[1].batch_size == 8
    worker = encoder.worker_loader("cpu")()
    assert worker.cache_key("document") == encoder.cache_key("document")
    assert SentenceTransformerEncoder.from_model(encoder.model).worker_loader("cpu") is None  # weights in memory
