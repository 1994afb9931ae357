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
