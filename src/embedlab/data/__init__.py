"""Loading and validating evaluation data (every error names file, line and field)."""

from embedlab.data.reranking import load_reranking
from embedlab.data.retrieval import load_retrieval

__all__ = ["load_reranking", "load_retrieval"]
