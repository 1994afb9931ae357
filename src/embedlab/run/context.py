"""The run context every command that runs models shares (`eval`, `sweep`, `mine`, `finetune`'s checkpoints and
the commands to come): where model outputs are kept (a store per model, with the run's cache, engine, batching
and progress), the one cost check before anything is paid for, and where notes are said.

Stores are opened in a scope (`scope()`: one plan's models) and closed with it; a reranker's pair store is shared
by the whole run (a pair is scored once across first stages). Leaving the context closes whatever is still open.
"""

from __future__ import annotations

import logging
import platform
import random
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from importlib import metadata
from typing import Any

import numpy as np

from embedlab.embedding.cache import index_folder, open_cache
from embedlab.embedding.engines import embedding_store
from embedlab.embedding.pairs import PairStore
from embedlab.embedding.store import EmbeddingStore, Store
from embedlab.errors import EmbedlabError
from embedlab.models.base import Encoder, PairScorer, Ranker, TextModel
from embedlab.run.estimate import check_cost, cost_line
from embedlab.run.options import RunOptions
from embedlab.tasks.types import Task

log = logging.getLogger(__name__)


class RunContext:
    """Stores for the models of a run (`vectors`, `pairs`, `ranker`), the cost check (`check_costs`), notes
    (`say`). Use as a context manager: leaving it closes every store's cache."""

    def __init__(self, run: RunOptions | None = None, *, batch_size: int = 32) -> None:
        self.run, self.batch_size = run or RunOptions(), batch_size
        self._run_stack = ExitStack()
        self._scope: ExitStack | None = None
        self._stores: list[Store] = []  # opened in the current scope
        self._vectors: dict[Any, Store] = {}  # model (and kind of store) -> its store, in the current scope
        self._pairs: dict[int, PairStore] = {}  # shared by the run

    def __enter__(self) -> RunContext:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._scope is not None:
            self._scope.close()
        self._run_stack.close()

    @contextmanager
    def scope(self) -> Iterator[list[Store]]:
        """The stores opened inside (one plan's models), closed when it ends."""
        outer, stores = (self._scope, self._stores, self._vectors), []
        with ExitStack() as stack:
            self._scope, self._stores, self._vectors = stack, stores, {}
            try:
                yield stores
            finally:
                self._scope, self._stores, self._vectors = outer

    def say(self, line: str) -> None:
        """A note for the user (the caller's `announce`: stderr on the command line), else the log."""
        if self.run.announce is not None:
            self.run.announce(line)
        else:
            log.warning("%s", line)

    def _open(self, store: Store, shared: bool = False) -> Store:
        (self._run_stack if shared or self._scope is None else self._scope).enter_context(store)
        if not shared:
            self._stores.append(store)
        return store

    def vectors(self, model: Encoder) -> EmbeddingStore:
        """The store of the model's vectors on the run's engine (in process, or on Ray): one per model in a scope."""
        if id(model) not in self._vectors:
            store = embedding_store(self.run.engine)(model, batch_size=self.batch_size, progress=self.run.progress,
                                                     cache=open_cache(self.run.cache, model.paid))
            self._vectors[id(model)] = self._open(store)
        return self._vectors[id(model)]

    def outputs(self, kind: type[Store], model: TextModel) -> Store:
        """The store `kind` of a model's outputs beyond one dense vector (`embedding.outputs`: sparse rows, token
        vectors, bge-m3's outputs): one per model in a scope."""
        key = (kind, id(model))
        if key not in self._vectors:
            store = kind(model, batch_size=self.batch_size, progress=self.run.progress,
                         cache=open_cache(self.run.cache, model.paid))
            self._vectors[key] = self._open(store)
        return self._vectors[key]

    def plain_vectors(self, model: Encoder) -> EmbeddingStore:
        """A store of the model's vectors in this process, whatever the engine (queries encoded again, say)."""
        return self._open(EmbeddingStore(model, batch_size=self.batch_size, progress=self.run.progress,
                                         cache=open_cache(self.run.cache, model.paid)))

    def pairs(self, model: PairScorer) -> PairStore:
        """The store of the model's pair scores, one per model for the whole run."""
        if id(model) not in self._pairs:
            store = PairStore(model, batch_size=self.batch_size, progress=self.run.progress,
                              cache=open_cache(self.run.cache, model.paid))
            self._pairs[id(model)] = self._open(store, shared=True)
        return self._pairs[id(model)]

    def ranker(self, model: Ranker) -> Ranker:
        """The ranker, keeping the indexes it builds beside the run's cache (`--cache`) for the next runs."""
        model.keep_indexes(index_folder(self.run.cache, model.paid))
        return model

    def prepare(self, tasks: Sequence[Task]) -> None:
        """Every task's documents to each store of the scope first: on Ray, one worker pool encodes them all.
        Should that fail, each task encodes its own, so the failure is recorded against the task it belongs to."""
        for store in self._stores:
            try:
                store.prepare(task.texts("document") for task in tasks)
            except EmbedlabError:
                pass

    def check_costs(self, rows: list[dict[str, Any]]) -> None:
        """The one cost check: each paid model's estimate announced, the run refused above `max_cost`."""
        for row in rows:
            self.say(cost_line(row, at_most=row.get("at_most", False)))
        check_cost(rows, self.run.max_cost)


def environment() -> dict[str, str]:
    """Where a run ran: Python, platform and the versions that change numbers."""
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("embedlab", "numpy", "torch", "sentence-transformers", "transformers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")  # only a loaded local model uses it: never import it just to seed
    if torch is not None:
        torch.manual_seed(seed)
