"""Shared fixtures: a deterministic fake encoder and small data written on the fly."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from embedlab.models.base import Encoder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ["EMBEDLAB_KEYS_FILE"] = os.devnull + ".absent"  # a developer's own keys file stays out of tests

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


class FakeEncoder(Encoder):
    """Bag of character bigrams hashed into 64 dims: similar strings get similar vectors, no model.

    Records every batch it was asked to encode, so tests can count calls and texts.
    """

    name = "fake-bigram"
    dimension = 64

    def __init__(self, query_prefix: str = "") -> None:
        self.query_prefix = query_prefix
        self.calls: list[tuple[str, list[str]]] = []

    def encode(self, texts, kind="document"):
        self.calls.append((kind, list(texts)))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            text = (self.query_prefix if kind == "query" else "") + text
            for a, b in zip(" " + text, text + " "):
                slot = int.from_bytes(hashlib.md5((a + b).encode()).digest()[:4], "little")
                out[row, slot % self.dimension] += 1.0
        out[:, 0] += 0.01  # no zero vector even for an empty string
        return out

    def cache_key(self, kind):
        return f"fake|{self.name}|{kind}|{self.query_prefix if kind == 'query' else ''}"

    @property
    def texts_encoded(self) -> list[str]:
        return [t for _, batch in self.calls for t in batch]


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


def write_jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_beir(folder: Path, corpus: dict, queries: dict, qrels: list[tuple[str, str, int]],
               qrels_name: str = "qrels.tsv") -> Path:
    write_jsonl(folder / "corpus.jsonl", [{"_id": k, "title": "", "text": v} for k, v in corpus.items()])
    write_jsonl(folder / "queries.jsonl", [{"_id": k, "text": v} for k, v in queries.items()])
    qrels_path = folder / qrels_name
    qrels_path.parent.mkdir(parents=True, exist_ok=True)
    qrels_path.write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels),
                          encoding="utf-8")
    return folder


RERANK_ROWS = [
    {"_id": "a", "query": "how do I brew green tea", "positive": ["brew green tea at 80 degrees for two minutes"],
     "negative": ["black tea needs boiling water", "coffee beans are roasted", "tea is grown in hills"]},
    {"_id": "b", "query": "fix a flat bicycle tyre", "positive": ["patch the inner tube of the tyre",
                                                                  "replace the tube when the hole is large"],
     "negative": ["oil the bicycle chain", "coffee beans are roasted"]},
    {"_id": "c", "query": "water a cactus", "positive": ["a cactus needs water every few weeks"],
     "negative": ["ferns like humid air", "tea is grown in hills", "black tea needs boiling water"]},
    {"_id": "d", "query": "no negatives here", "positive": ["something"], "negative": []},
]


@pytest.fixture
def rerank_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "rerank.jsonl", RERANK_ROWS)


@pytest.fixture
def retrieval_dir(tmp_path) -> Path:
    corpus = {"d1": "green tea is brewed at 80 degrees", "d2": "black tea needs boiling water",
              "d3": "patch the inner tube of a bicycle tyre", "d4": "a cactus needs little water",
              "d5": "oil the bicycle chain monthly", "d6": "ferns like humid air"}
    queries = {"q1": "brew green tea", "q2": "flat bicycle tyre", "q3": "water a cactus",
               "q4": "a query nobody judged"}
    qrels = [("q1", "d1", 2), ("q1", "d2", 1), ("q2", "d3", 1), ("q2", "d5", 0), ("q3", "d4", 1)]
    return write_beir(tmp_path / "beir", corpus, queries, qrels)


# A tiny randomly initialised BERT (2 layers, 32 wide) as a sentence-transformers model: no download.
def make_tiny_model(path: Path, seed: int = 0, dropout: float = 0.1) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    from embedlab.demo import default_model

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(default_model())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
    raw = path / "raw"
    BertModel(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=64)
    width = (transformer.get_embedding_dimension() if hasattr(transformer, "get_embedding_dimension")
             else transformer.get_word_embedding_dimension())
    model = SentenceTransformer(modules=[transformer, Pooling(width, "mean")], device="cpu")
    model.save(str(path / "model"))
    return path / "model"


# A tiny randomly initialised decoder-only model from a Qwen-style config (Qwen2: RMSNorm, gated MLP, grouped-query
# attention, as gte-Qwen2 / Qwen3-Embedding) with last-token pooling, as LLM-based embedders pool: no download.
def make_tiny_decoder(path: Path, seed: int = 0, hidden: int = 64, layers: int = 2, heads: int = 4, kv_heads: int = 2,
                      intermediate: int = 176, max_length: int = 64, qwen3: bool = False) -> Path:
    """`qwen3`: Qwen3's layout (RMSNorm on each head's queries and keys, as Qwen3-Embedding) instead of Qwen2's."""
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import AutoTokenizer

    from embedlab.demo import default_model

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(default_model())  # its [SEP] ends every text: the last token pooled
    kind = "Qwen3" if qwen3 else "Qwen2"
    config = getattr(transformers, f"{kind}Config")(
        vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        num_key_value_heads=kv_heads, intermediate_size=intermediate, max_position_embeddings=256,
        tie_word_embeddings=False, **({"head_dim": hidden // heads} if qwen3 else {}))
    raw = path / "raw"
    getattr(transformers, f"{kind}Model")(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=max_length)
    model = SentenceTransformer(modules=[transformer, Pooling(hidden, "lasttoken"), Normalize()], device="cpu")
    model.save(str(path / "decoder"))
    return path / "decoder"


@pytest.fixture(scope="session")
def tiny_decoder(tmp_path_factory) -> Path:
    return make_tiny_decoder(tmp_path_factory.mktemp("tiny-decoder"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_model_without_dropout(tmp_path_factory) -> Path:
    """Deterministic forward passes: for comparing two losses step by step."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny-bert-nodrop"), dropout=0.0)


@pytest.fixture
def messy_beir(tmp_path) -> Path:
    folder = tmp_path / "beir"
    write_jsonl(folder / "corpus.jsonl", [
        {"_id": "d1", "title": "", "text": "green tea"}, {"_id": "d2", "title": "", "text": "black tea"},
        {"_id": "d3", "title": "Green", "text": "tea!"}, {"_id": "d4", "title": "", "text": "   "},
        {"_id": "d2", "title": "", "text": "a second d2"}])
    write_jsonl(folder / "queries.jsonl", [
        {"_id": "q1", "text": "tea?"}, {"_id": "q2", "text": "coffee"}, {"_id": "q3", "text": "unjudged"},
        {"_id": "q4", "text": "tea?"}, {"_id": "q5", "text": "zero only"}])
    judgments = [("q1", "d1", 1), ("q1", "d9", 1), ("qx", "d1", 1), ("q2", "d2", 1), ("q2", "d2", 1),
                 ("q2", "d2", 0), ("q5", "d2", 0), ("q4", "d1", 2)]
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n"
                                      + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in judgments), encoding="utf-8")
    return folder


# A tiny randomly initialised BERT cross-encoder (one label), saved as a sentence-transformers CrossEncoder.
def make_tiny_cross_encoder(path: Path, seed: int = 0) -> Path:
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from embedlab.demo import default_model

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(default_model())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128, num_labels=1,
                        initializer_range=0.2)  # wider weights: scores spread out instead of all near 0.5
    raw = path / "raw"
    BertForSequenceClassification(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    CrossEncoder(str(raw), device="cpu", max_length=64).save(str(path / "cross-encoder"))
    return path / "cross-encoder"


@pytest.fixture(scope="session")
def tiny_cross_encoder(tmp_path_factory) -> Path:
    return make_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-ce"))


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster for the session (2 CPUs, a fixed object store); skipped without ray."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    if not ray.is_initialized():
        import sys

        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)  # workers import the tests' encoders
        ray.init(num_cpus=2, object_store_memory=150 * 1024 ** 2, include_dashboard=False, logging_level="warning",
                 log_to_driver=False)
    yield ray
    ray.shutdown()


# Tiny offline models of the learned sparse, multi-vector and bge-m3 kinds (tests/tiny_kinds.py).
@pytest.fixture(scope="session")
def tiny_splade(tmp_path_factory) -> Path:
    from tests.tiny_kinds import make_tiny_splade

    return make_tiny_splade(tmp_path_factory.mktemp("tiny-splade"))


@pytest.fixture(scope="session")
def tiny_colbert(tmp_path_factory) -> Path:
    from tests.tiny_kinds import make_tiny_colbert

    return make_tiny_colbert(tmp_path_factory.mktemp("tiny-colbert"))


@pytest.fixture(scope="session")
def tiny_m3(tmp_path_factory) -> Path:
    from tests.tiny_kinds import make_tiny_m3

    return make_tiny_m3(tmp_path_factory.mktemp("tiny-m3"))
