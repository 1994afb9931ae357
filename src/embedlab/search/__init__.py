"""Top-k search over embeddings."""

from embedlab.search.exact import top_k

__all__ = ["top_k"]
