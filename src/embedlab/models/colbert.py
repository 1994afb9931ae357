"""Multi-vector (ColBERT, late-interaction) models through sentence-transformers' `MultiVectorEncoder`
(`colbert:PATH|ID`): it loads pylate and Stanford-NLP ColBERT checkpoints as well as its own, with their
query / document prefixes, lengths, query expansion and skip-lists. Token vectors come back as one (tokens, dim)
float32 array per text (`models.base.MultiVectorEncoder`), scored by MaxSim, or mean MaxSim when the model says so.

Why not pylate: pylate 1.6 pins sentence-transformers==5.3.0 and transformers<=5.3 and pulls a fast-plaid built
for torch 2.11, which would replace this install's torch; sentence-transformers 6 reads the same checkpoints."""

from __future__ import annotations

from typing import Any

import numpy as np

from embedlab.models.base import Kind, ModelOptions, MultiVectorEncoder
from embedlab.models.sentence_transformers import SentenceTransformerKind


class ColBERTSentenceTransformer(SentenceTransformerKind, MultiVectorEncoder):
    """A sentence-transformers MultiVectorEncoder; its similarity (maxsim / meanmaxsim) decides the mean."""

    # `--index`: the document tokens' index for large corpora (scorers.multivector)
    options_read = SentenceTransformerKind.options_read | {"index"}

    model_class = "MultiVectorEncoder"
    prefix = "colbert"

    def __init__(self, spec: str, options: ModelOptions | None = None) -> None:
        super().__init__(spec, options)
        self.dimension = self.model.get_embedding_dimension()
        self.mean_over_query_tokens = self.model.similarity_fn_name == "meanmaxsim"

    def encode_tokens(self, texts: list[str], kind: Kind = "document") -> list[np.ndarray]:
        encode = self.model.encode_query if kind == "query" else self.model.encode_document
        return [np.asarray(block, dtype=np.float32)
                for block in encode(list(texts), convert_to_numpy=True, **self.encode_kwargs(kind))]

    def settings_key(self) -> str:
        return f"|dim={self.dimension}|similarity={self.model.similarity_fn_name}"

    def info(self) -> dict[str, Any]:
        return {**super().info(), "dimension": self.dimension, "similarity": self.model.similarity_fn_name}
