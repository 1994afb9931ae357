"""Evaluation tasks as plain data: what to encode and what counts as relevant."""

from embedlab.tasks.reranking import RerankingTask, RerankRow
from embedlab.tasks.retrieval import RetrievalTask

__all__ = ["RerankRow", "RerankingTask", "RetrievalTask"]
