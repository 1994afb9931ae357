"""`RunOptions`: how a run is done, whatever the model (the model's own settings are `ModelOptions`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from embedlab.metrics.names import DEFAULT_K

if TYPE_CHECKING:
    from embedlab.embedding.engines.options import EngineOptions
    from embedlab.models.base import Model, ModelOptions
    from embedlab.run.observers import SavedRuns


@dataclass
class RunOptions:
    """How a run is done: which data (and how much of it), where outputs are kept, what may be spent, what is
    said; and, for `evaluate`, the retrieval stack around each model (reranker, saved runs, index)."""

    # which data
    k_values: tuple[int, ...] = DEFAULT_K
    seed: int = 0
    sample: int | None = None  # a seeded sample of N rows / queries per task
    prune_corpus: int | None = None  # with sample, retrieval: judged documents + D random others only
    split: str | None = None
    data_dir: str | Path | None = None  # where C-MTEB task snapshots are
    # the run context (`run.context.RunContext`): every command that runs a model shares these
    cache: str | Path | bool | None = None  # a path, True (default path), False (none), None: paid models only
    engine: EngineOptions | None = None  # --engine ray: documents encoded on a Ray cluster; None: here
    progress: bool = False
    max_cost: float | None = None  # refuse to start when a paid model's estimate is higher
    price_per_mtok: float | None = None  # overrides the price table (estimates; recorded for reports' costs)
    announce: Callable[[str], None] | None = None  # receives the cost estimate lines and notes before any request
    # the retrieval stack of `evaluate`: each model's top `rerank_depths` reranked by `reranker` (a pair scorer:
    # ce:, rerank:, qianfan-rerank:, a bare path = a local cross-encoder), one more run per depth; the reranker
    # alone scores reranking rows. `reranker_options`: its own settings (default: the models' without instructions)
    reranker: str | Model | None = None
    rerank_depths: tuple[int, ...] = ()
    reranker_options: ModelOptions | None = None
    save_run: str | Path | SavedRuns | None = None  # a folder: each retrieval run's top 100 as TREC runs
    index: str = "exact"  # or hnsw | ivf | usearch: dense retrieval by an approximate index, its cost measured

    def kept_paths(self) -> list[Path]:
        """What the run keeps besides its data, which no output may replace: the embedding cache file (paid
        vectors), a local vector folder, the folder of saved runs."""
        from embedlab.embedding.cache import DEFAULT_PATH

        kept = [DEFAULT_PATH if self.cache is None or self.cache is True else Path(self.cache) if self.cache else None]
        vectors = self.engine.vectors if self.engine is not None else None
        kept.append(Path(vectors) if vectors is not None and "://" not in str(vectors) else None)
        kept.append(Path(self.save_run) if isinstance(self.save_run, (str, Path)) else None)
        return [path for path in kept if path is not None]
