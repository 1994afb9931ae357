"""Tiny offline models of the sparse and multi-vector kinds, built from the bundled MiniLM (no download): they
prove the plumbing and the parity with the reference implementations, not quality.

- `make_tiny_splade`: sentence-transformers SparseEncoder = MiniLM as a masked LM (its word embeddings tied to
  the MLM decoder; the MLM transform head, absent from MiniLM, random) + SpladePooling (max of log(1 + relu));
  the MLM bias is set so a text keeps a few hundred terms, as a trained SPLADE does.
- `make_tiny_colbert`: sentence-transformers MultiVectorEncoder = MiniLM + a random 384 -> 32 projection +
  MultiVectorMask + Normalize, with ColBERT's query / document prefix tokens.
- `make_tiny_m3`: bge-m3's layout for FlagEmbedding: a transformers model folder (MiniLM) with random
  `sparse_linear.pt` (hidden -> 1) and `colbert_linear.pt` (hidden -> hidden) saved beside it, as FlagEmbedding
  saves them; eos = [SEP], as bge-m3's tokenizer has one (FlagEmbedding drops cls / eos / pad / unk weights).
"""

from __future__ import annotations

from pathlib import Path

SPLADE_BIAS = -3.5  # the MLM logits' bias: few terms of a text stay above zero


def _minilm() -> str:
    from embedlab.demo import default_model

    return str(default_model())


def make_tiny_splade(path: Path, seed: int = 0) -> Path:
    import torch
    from sentence_transformers import SparseEncoder
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.sparse_encoder.modules import SpladePooling
    from transformers.utils import logging as hf_logging

    torch.manual_seed(seed)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the MLM head MiniLM lacks is reported missing: it is meant to be random
    try:
        mlm = Transformer(_minilm(), transformer_task="fill-mask", max_seq_length=64)
    finally:
        hf_logging.set_verbosity(verbosity)
    with torch.no_grad():
        mlm.auto_model.cls.predictions.bias.fill_(SPLADE_BIAS)
    model = SparseEncoder(modules=[mlm, SpladePooling("max")], device="cpu")
    model.save(str(path / "splade"))
    return path / "splade"


def make_tiny_colbert(path: Path, seed: int = 0, dim: int = 32) -> Path:
    import torch
    from sentence_transformers import MultiVectorEncoder
    from sentence_transformers.base.modules import Dense, Normalize, Transformer
    from sentence_transformers.multi_vector_encoder.modules import MultiVectorMask

    torch.manual_seed(seed)
    transformer = Transformer(_minilm(), max_seq_length=64)
    projection = Dense(transformer.get_embedding_dimension(), dim, bias=False, activation_function=torch.nn.Identity(),
                       module_input_name="token_embeddings")
    model = MultiVectorEncoder(modules=[transformer, projection, MultiVectorMask(),
                                        Normalize(module_input_name="token_embeddings")],
                               device="cpu", prompts={"query": "[unused0] ", "document": "[unused1] "})
    model.save(str(path / "colbert"))
    return path / "colbert"


def make_tiny_m3(path: Path, seed: int = 0) -> Path:
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(seed)
    folder = path / "m3"
    backbone = AutoModel.from_pretrained(_minilm())
    tokenizer = AutoTokenizer.from_pretrained(_minilm())
    tokenizer.eos_token = tokenizer.sep_token
    backbone.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    hidden = backbone.config.hidden_size
    torch.save(torch.nn.Linear(hidden, hidden).state_dict(), folder / "colbert_linear.pt")
    torch.save(torch.nn.Linear(hidden, 1).state_dict(), folder / "sparse_linear.pt")
    return folder


class FakeSparse:
    """Deterministic learned-sparse stand-in: a text's words hashed into 1,000 terms, weight = count (no model).
    Records every batch it encodes."""

    vocab = 1000

    @staticmethod
    def rows(texts: list[str]):
        import hashlib

        import numpy as np
        import scipy.sparse as sp

        out = sp.lil_matrix((len(texts), FakeSparse.vocab), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % FakeSparse.vocab] += 1.0
        return out.tocsr()


class FakeTokens:
    """Deterministic multi-vector stand-in: one unit 8-d vector per word, seeded by the word (no model)."""

    dim = 8

    @staticmethod
    def blocks(texts: list[str]):
        import hashlib

        import numpy as np

        out = []
        for text in texts:
            words = text.lower().split() or [""]
            vectors = np.stack([np.random.default_rng(int(hashlib.md5(w.encode()).hexdigest()[:8], 16))
                                .standard_normal(FakeTokens.dim) for w in words]).astype(np.float32)
            out.append(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        return out


def fake_sparse_model():
    from embedlab.models.base import SparseEncoder

    class FakeSparseEncoder(SparseEncoder):
        name = "fake-sparse"
        vocab_size = FakeSparse.vocab

        def __init__(self) -> None:
            self.calls: list[tuple[str, list[str]]] = []

        def encode_sparse(self, texts, kind="document"):
            self.calls.append((kind, list(texts)))
            return FakeSparse.rows(list(texts))

    return FakeSparseEncoder()


def fake_multivector_model(mean: bool = False):
    from embedlab.models.base import MultiVectorEncoder

    class FakeMultiVector(MultiVectorEncoder):
        name = "fake-tokens"
        dimension = FakeTokens.dim
        mean_over_query_tokens = mean

        def __init__(self) -> None:
            self.calls: list[tuple[str, list[str]]] = []

        def encode_tokens(self, texts, kind="document"):
            self.calls.append((kind, list(texts)))
            return FakeTokens.blocks(list(texts))

    return FakeMultiVector()


def fake_m3_model(outputs=("dense", "sparse", "colbert"), weights=(0.4, 0.2, 0.4)):
    """A MultiOutputEncoder of the three fakes: one call gives every output (what a bge-m3 pass does)."""
    from embedlab.models.base import MultiOutputEncoder
    from tests.conftest import FakeEncoder

    class FakeM3(MultiOutputEncoder):
        name = "fake-m3"

        def __init__(self) -> None:
            self.outputs, self.weights = tuple(outputs), tuple(weights)
            self.calls: list[tuple[str, list[str]]] = []

        def encode_outputs(self, texts, kind="document"):
            self.calls.append((kind, list(texts)))
            made = {"dense": lambda: FakeEncoder().encode(list(texts), kind), "sparse": lambda: FakeSparse.rows(texts),
                    "colbert": lambda: FakeTokens.blocks(list(texts))}
            return {name: made[name]() for name in self.outputs}

    return FakeM3()
