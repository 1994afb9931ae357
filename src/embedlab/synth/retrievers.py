"""The models the filters and the reranking rows use (`-m`; default: BM25 and the bundled MiniLM): the round trip
is an `embedlab.evaluate` run of each on the synthetic queries (hit_rate@k per query), near-duplicates are the first
dense model's query vectors (through a run context: its cache and cost check), and the rows' negatives are mined
with it by `embedlab.mining.mine` (its false-negative filter included). The dense model is loaded once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from embedlab.errors import SetupError
from embedlab.metrics.names import DEFAULT_K
from embedlab.mining import MiningConfig, MiningInput, MiningRow, mine
from embedlab.models.base import Encoder, Model, ModelOptions, as_model
from embedlab.models.registry import backend_class, load_model
from embedlab.run.context import RunContext
from embedlab.run.evaluation import evaluate
from embedlab.run.options import RunOptions
from embedlab.synth.drafts import Draft
from embedlab.synth.passages import Passage
from embedlab.synth.prompts import language_of
from embedlab.tasks.retrieval import RetrievalTask


def default_retrievers() -> tuple[str, ...]:
    from embedlab.demo import default_model

    return ("bm25", default_model())


class Retrievers:
    def __init__(self, specs: tuple[str | Model, ...], options: ModelOptions, run: RunOptions, *,
                 defaulted: bool = False) -> None:
        self.specs, self.options, self.defaulted = specs, options, defaulted
        # the round trip scores every query it is given, on the whole synthetic corpus: no sample, no extras
        self.run = dataclasses.replace(run, sample=None, prune_corpus=None, reranker=None, rerank_depths=(),
                                       save_run=None)
        self.dense_spec = next((s for s in specs if _dense(s)), None)
        given = self.dense_spec is not None and not isinstance(self.dense_spec, str)
        self._dense: Model | None = as_model(self.dense_spec) if given else None

    def dense(self) -> Model | None:
        """The first dense model, loaded the first time it is needed (a Model given is used as it is)."""
        if self._dense is None and self.dense_spec is not None:
            self._dense = load_model(self.dense_spec, self.options)
        return self._dense

    def models(self) -> list[str | Model]:
        return [self.dense() if spec is self.dense_spec else spec for spec in self.specs]

    def embed(self, texts: list[str]) -> tuple[np.ndarray | None, str]:
        """Unit query vectors of the dense model, or None and why not: no dense model given, or the bundled default
        (English only: it reads Chinese as unknown tokens, so unrelated Chinese queries get a cosine near 1)."""
        if self.dense_spec is None:
            return None, "no embedding model among -m"
        if self.defaulted and language_of(" ".join(texts[:500])) == "zh":
            return None, "the default model (the bundled MiniLM) is English-only; give a multilingual one with -m"
        with RunContext(self.run, batch_size=self.options.batch_size) as ctx:
            return ctx.vectors(self.dense()).embed(texts, "query"), ""

    def round_trip(self, drafts: list[Draft], corpus: dict[str, Passage], k: int) -> dict[str, np.ndarray]:
        """Each model's name -> whether each draft's document is in its top k."""
        ids = [f"r{i}" for i in range(len(drafts))]
        task = RetrievalTask("synthetic/round-trip", {key: p.content for key, p in corpus.items()},
                             {qid: d.text for qid, d in zip(ids, drafts)},
                             {qid: dict.fromkeys(d.positives, 1) for qid, d in zip(ids, drafts)})
        run = dataclasses.replace(self.run, k_values=tuple(sorted({*DEFAULT_K, k})))
        results = evaluate(self.models(), [task], model=self.options, run=run)
        found = {}
        for model_run in (r for r in results.runs if r.kind == "model"):
            result = model_run.tasks[0]
            hits = dict(zip(result.query_ids, result.per_query[f"hit_rate@{k}"]))
            found[model_run.model["name"]] = np.array([hits[qid] > 0 for qid in ids], dtype=bool)
        return found

    def mine_rows(self, drafts: list[tuple[str, Draft]], corpus: dict[str, Passage], out: Path) -> dict:
        """Reranking rows {_id, query, positive, negative} of the kept queries, negatives mined from the corpus."""
        model = self.dense()
        if model is None:
            raise SetupError("--reranking-rows mines negatives with an embedding model: give one with -m")
        rows = [MiningRow(qid, d.text, [corpus[p].content for p in d.positives], [], {"_id": qid}) for qid, d in drafts]
        source = MiningInput(rows, {key: p.content for key, p in corpus.items()}, {}, "")
        report = mine(source, model, out, config=MiningConfig(), options=self.options, run=self.run,
                      output_format="reranking", report_path=out.with_suffix(".report.json"))
        return {"file": out.name, "rows": len(rows), "model": model.name, "negatives": report.negatives_written,
                "likely_false_negatives_dropped": report.likely_false_negatives,
                "rows_without_negative": report.rows_without_negative, "report": out.with_suffix(".report.json").name}

    def close(self) -> None:
        if self._dense is not None and isinstance(self.dense_spec, str):
            self._dense.close()
            self._dense = None


def _dense(spec: str | Model) -> bool:
    return issubclass(backend_class(spec), Encoder) if isinstance(spec, str) else isinstance(as_model(spec), Encoder)
