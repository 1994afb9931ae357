"""Learned sparse models through sentence-transformers' `SparseEncoder` (`sparse:PATH|ID`): SPLADE and its family
(MLM logits max-pooled into vocabulary weights, inference-free SPLADE with a static query side, CSR auto-encoders).
Term weights come back as scipy CSR rows over the model's vocabulary (`models.base.SparseEncoder`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from embedlab.errors import require
from embedlab.models.base import Kind, ModelOptions, SparseEncoder
from embedlab.models.sentence_transformers import SentenceTransformerKind


def torch_to_csr(tensor: Any):
    """A torch (sparse COO or dense) 2-d tensor as a float32 scipy CSR matrix, without densifying a sparse one."""
    sparse = require("scipy.sparse", "learned sparse models")
    if tensor.is_sparse:
        tensor = tensor.coalesce().cpu()
        rows, cols = tensor.indices().numpy()
        return sparse.csr_matrix((tensor.values().float().numpy(), (rows, cols)), shape=tuple(tensor.shape),
                                 dtype=np.float32)
    return sparse.csr_matrix(tensor.detach().float().cpu().numpy(), dtype=np.float32)


class SparseSentenceTransformer(SentenceTransformerKind, SparseEncoder):
    """A sentence-transformers SparseEncoder; `max_active_dims` (the model's own pruning) is part of the cache key."""

    model_class = "SparseEncoder"
    prefix = "sparse"
    requires = (*SentenceTransformerKind.requires, "scipy.sparse")

    def __init__(self, spec: str, options: ModelOptions | None = None) -> None:
        require("scipy.sparse", "learned sparse models")
        super().__init__(spec, options)
        # the width of a row, from the model itself: a SpladePooling saved before its first forward reports the
        # transformer's hidden size instead of the vocabulary
        self.vocab_size = int(self.encode_sparse([""], "document").shape[1])

    def encode_sparse(self, texts: list[str], kind: Kind = "document"):
        encode = self.model.encode_query if kind == "query" else self.model.encode_document
        return torch_to_csr(encode(list(texts), convert_to_sparse_tensor=True, **self.encode_kwargs(kind)))

    def settings_key(self) -> str:
        return f"|vocab={self.vocab_size}|max_active_dims={getattr(self.model, 'max_active_dims', None)}"

    def info(self) -> dict[str, Any]:
        return {**super().info(), "vocab_size": self.vocab_size,
                "max_active_dims": getattr(self.model, "max_active_dims", None)}
