"""What each run's retrieval costs beside its quality, per kind of model, from results alone: bytes stored per
document (dense dim x 4; learned sparse nnz x 8; multi-vector tokens x dim x 4, per output of a model that gives
several), the search index's bytes and milliseconds per query where the run measured them (a sparse inverted index,
a ColBERT token index or exact MaxSim, bge-m3's fused search, an approximate dense index)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from embedlab.results.results import Results
from embedlab.results.table import display_names
from embedlab.tasks.types import task_type

# per-task search costs a run's work counts may hold, and what each is
SEARCHES = {"sparse_index": "sparse inverted index", "multi_vector_search": "MaxSim",
            "fused_search": "fused (dense + sparse + MaxSim)", "approximate_search": "approximate dense index"}


@dataclass
class CostRow:
    model: str  # the run's display name
    task: str
    score: float  # the task's main score
    storage: dict[str, float]  # output -> bytes per document
    search: str  # what searched the corpus (SEARCHES; exact: the exact dense search), or how rows were scored
    index_bytes: int | None
    ms_per_query: float | None


def cost_rows(results: Results) -> list[CostRow]:
    """A row per (run, retrieval task) of the runs that recorded what their outputs cost (learned sparse,
    multi-vector, bge-m3; a dense run with an approximate index); nothing for plain dense runs."""
    rows = []
    for name, run in zip(display_names(results.runs), results.runs):
        storage = {output: float(cost.get("bytes_per_text", 0.0))
                   for output, cost in run.embedding.get("document_storage", {}).items()}
        for result in run.tasks:
            search, cost = _search_cost(run.embedding, result.task)
            if storage or search:
                how = search or ("exact" if task_type(result.type).ranks_corpus else "each row's candidates")
                rows.append(CostRow(name, result.task, result.scores[result.main_score], storage, how,
                                    cost.get("index_bytes"), cost.get("ms_per_query")))
    return rows


def _search_cost(embedding: dict[str, Any], task: str) -> tuple[str | None, dict[str, Any]]:
    for key, what in SEARCHES.items():
        per_task = embedding.get(key, {})
        if task in per_task:
            cost = per_task[task]
            method = cost.get("method")
            return (f"{what} ({method})" if method else what), cost
    return None, {}
