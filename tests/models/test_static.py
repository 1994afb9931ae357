"""Static embeddings (model2vec) as an Encoder, and distillation of a local model into one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedlab.errors import DataError, MissingDependencyError, ModelError
from embedlab.models import ModelOptions, load_model
from embedlab.models.static import StaticEncoder, distil_static

pytest.importorskip("model2vec")
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "tea", "water", "hot", "green", "cold", "cactus", "bike"]


def tiny_static_model(folder: Path, normalize: bool = False) -> Path:
    """A static model with known vectors: token i of VOCAB -> row i of a seeded random table."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    vectors = np.random.default_rng(0).normal(size=(len(VOCAB), 8)).astype(np.float32)
    StaticModel(vectors, tokenizer, normalize=normalize).save_pretrained(str(folder / "static"))
    return folder / "static"


def tiny_bert(folder: Path, pooling: str = "mean") -> Path:
    """A 1-layer BERT over VOCAB as a sentence-transformers model: distils in a second."""
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(VOCAB))
    tokenizer = BertTokenizerFast(str(folder / "vocab.txt"))
    BertModel(BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32)).save_pretrained(folder / "bert")
    tokenizer.save_pretrained(folder / "bert")
    module = models.Transformer(str(folder / "bert"))
    SentenceTransformer(modules=[module, models.Pooling(16, pooling)]).save(str(folder / "st"))
    return folder / "st"


def test_a_static_model_averages_its_token_vectors_with_the_instruction_as_tokens(tmp_path):
    from model2vec import StaticModel

    path = tiny_static_model(tmp_path)
    table = StaticModel.from_pretrained(str(path)).embedding
    encoder = load_model(f"static:{path}", ModelOptions(query_instruction="green "))
    assert isinstance(encoder, StaticEncoder) and encoder.dimension == 8 and encoder.name == str(path)
    documents = encoder.encode(["tea hot", "cactus"], "document")
    np.testing.assert_allclose(documents, [table[[5, 7]].mean(0), table[10]], rtol=1e-6)
    np.testing.assert_allclose(encoder.encode(["tea"], "query")[0], table[[8, 5]].mean(0), rtol=1e-6)
    assert documents.dtype == np.float32 and encoder.count_tokens(["tea hot water"]) == 3
    empty = encoder.encode(["", "zzz qqq"], "document")  # nothing to average: one fixed direction, counted
    np.testing.assert_allclose(empty, np.full((2, 8), 1 / np.sqrt(8)), rtol=1e-6)
    assert encoder.info()["texts_without_tokens"] == 2


def test_max_length_truncates_and_is_in_the_cache_key_and_provenance(tmp_path):
    path = tiny_static_model(tmp_path)
    short = load_model(f"static:{path}", ModelOptions(max_length=1))
    full = load_model(f"static:{path}")
    np.testing.assert_allclose(short.encode(["tea hot"]), full.encode(["tea"]))
    assert full.max_length == 512 and "max_length=1|" in short.cache_key("document")
    assert short.cache_key("query") != full.cache_key("query") and "rev=dir-sha256:" in full.cache_key("query")
    info = full.info()
    assert info["backend"] == "model2vec" and info["inference_backend"] == "static" and info["dimension"] == 8
    assert info["model_bytes"] == sum(f.stat().st_size for f in path.iterdir())
    worker = full.worker_loader("cpu")()
    np.testing.assert_array_equal(worker.encode(["tea"]), full.encode(["tea"]))


def test_a_missing_or_wrong_static_model_is_one_line(tmp_path):
    with pytest.raises(ModelError, match="no such folder .*embedlab distil"):
        load_model(f"static:{tmp_path / 'absent'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a model2vec folder") as caught:
        load_model(f"static:{tmp_path / 'empty'}")
    assert "\n" not in str(caught.value)


def test_a_missing_model2vec_names_the_static_extra(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "model2vec", None)  # import model2vec -> ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'embedlab\[static\]'"):
        load_model(f"static:{tmp_path}")


def test_distil_makes_a_static_model_that_encodes_like_its_source_tokens(tmp_path):
    source = tiny_bert(tmp_path)
    made = distil_static(str(source), tmp_path / "out", dims=4)
    assert 7 <= made["tokens"] <= len(VOCAB)  # the 7 words, and the special tokens model2vec keeps
    assert made["dimension"] == 4 and made["pooling"] == "mean" and made["bytes"] > 0
    static = load_model(f"static:{tmp_path / 'out'}")
    vectors = static.encode(["tea hot", "cactus bike"])
    assert vectors.shape == (2, 4) and np.isfinite(vectors).all()
    assert not np.allclose(vectors[0], vectors[1])
    assert static.info()["base_model"] == str(source)


def test_distil_copies_cls_pooling_and_refuses_what_it_cannot(tmp_path):
    assert distil_static(str(tiny_bert(tmp_path / "cls", "cls")), tmp_path / "cls-out", dims=4)["pooling"] == "first"
    source = tiny_bert(tmp_path / "max", "max")
    with pytest.raises(ModelError, match="its pooling is max"):
        distil_static(str(source), tmp_path / "max-out", dims=4)
    with pytest.raises(ModelError, match="--dims 64 is more than the 16 dimensions"):
        distil_static(str(source.parent.parent / "cls" / "st"), tmp_path / "wide", dims=64)
    assert not (tmp_path / "max-out").exists() and not (tmp_path / "wide").exists()


def test_distil_never_writes_over_its_input_or_an_existing_output(tmp_path, monkeypatch):
    import embedlab.models.static as static_module

    source = tiny_bert(tmp_path)
    with pytest.raises(DataError, match="would overwrite or change the input"):
        distil_static(str(source), source / "inside", dims=4)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="already exists"):
        distil_static(str(source), tmp_path / "taken", dims=4)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(static_module, "POOLING", {"mean": "mean"})  # still distils mean pooling
    from model2vec.model import StaticModel

    monkeypatch.setattr(StaticModel, "save_pretrained", interrupted)
    with pytest.raises(KeyboardInterrupt):
        distil_static(str(source), tmp_path / "taken", dims=4, overwrite=True)
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine" and list(tmp_path.glob(".taken*")) == []


@pytest.mark.slow
def test_distilled_minilm_on_the_demo_data_is_worse_but_not_useless(tmp_path):
    from embedlab.demo import RETRIEVAL, default_model
    from embedlab.run.evaluation import RunOptions, evaluate, load_tasks

    distil_static(default_model(), tmp_path / "static", dims=128)
    tasks = load_tasks([RETRIEVAL], RunOptions(), expect="retrieval")
    results = evaluate([default_model(), f"static:{tmp_path / 'static'}"], tasks)
    transformer, static = (run.tasks[0].scores["ndcg@10"] for run in results.runs)
    assert 0.3 < static < transformer


def test_cached_distil_is_made_once_per_model_content_and_dims(tmp_path, monkeypatch):
    import embedlab.models.static as static_module

    monkeypatch.setenv("EMBEDLAB_EXPORT_DIR", str(tmp_path / "exports"))
    source = tiny_bert(tmp_path)
    first = static_module.cached_distil(str(source), dims=4)
    calls = []
    monkeypatch.setattr(static_module, "distil_static", lambda *a, **k: calls.append(a))
    assert static_module.cached_distil(str(source), dims=4) == first and calls == []
    assert static_module.cached_distil(str(source), dims=3) != first and len(calls) == 1
    assert load_model(f"static:{first}").dimension == 4
