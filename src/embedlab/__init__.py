"""embedlab: which embedding model for your RAG data, with numbers identical to mteb.

    >>> import embedlab
    >>> results = embedlab.evaluate("BAAI/bge-small-zh-v1.5", reranking="rerank.jsonl")
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["ModelOptions", "Results", "RunOptions", "evaluate", "load_reranking", "load_retrieval", "__version__"]


def __getattr__(name: str):
    # lazy, so `import embedlab` (and the CLI's --help) stays fast
    if name == "evaluate":
        from embedlab.run.evaluation import evaluate

        return evaluate
    if name == "RunOptions":
        from embedlab.run.options import RunOptions

        return RunOptions
    if name == "ModelOptions":
        from embedlab.models.base import ModelOptions

        return ModelOptions
    if name == "Results":
        from embedlab.results import Results

        return Results
    if name in ("load_reranking", "load_retrieval"):
        from embedlab import data

        return getattr(data, name)
    raise AttributeError(f"module 'embedlab' has no attribute '{name}'")
