"""The miner: search the candidates for each row's query and keep the ranks in range that pass the filters.

For each row, the query searches the candidate corpus; candidates ranked `range_min` .. `range_max` (raw
ranks, positives included, as in FlagEmbedding's `hn_mine --range_for_sampling`) are kept, minus likely
false negatives (`mining.filters`).

Memory is bounded whatever the corpus size and the number of rows: corpus vectors are embedded in
chunks into a float32 memory-mapped file when the corpus is large, the exact search scans it block by
block (`search.exact.top_k`), and rows are embedded, searched and written `row_chunk` at a time, each
chunk by a fresh store, so no vector outlives its chunk. What stays in RAM is the text (the rows and
the corpus, needed for the output), a small index of the positives, and one chunk of vectors.

`config.index` may instead search an index (`search.ann.search_index`: `flat`, faiss' exhaustive one, or the
approximate `faiss-ivf` / `faiss-hnsw`; the index holds a float32 copy of the corpus vectors). An approximate
index's candidate lists may miss documents the exact ones have: their recall@depth against exact search is
measured on a seeded sample of rows (`search.approximate.RecallSample`, as `eval --search` measures it) and
recorded in `MiningReport.approximate_search`.

Where each row's own positive ranks is counted too (`MiningReport.positive_rank`): a model that does not
rank the positives first is a poor miner, whatever the filters do.
"""

from __future__ import annotations

import itertools
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.data.output import write_jsonl
from embedlab.data.reranking import NEGATIVE_KEYS, POSITIVE_KEYS
from embedlab.data.text import text_key
from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import DataError
from embedlab.mining.config import MiningConfig
from embedlab.mining.filters import KnownPositives, filtered
from embedlab.mining.inputs import MiningRow
from embedlab.mining.report import MiningReport, advice
from embedlab.search.ann import search_index
from embedlab.search.approximate import RecallSample
from embedlab.search.exact import top_k
from embedlab.search.names import APPROXIMATE, EXACT

OUTPUT_KEYS = {"flag": ("pos", "neg"), "reranking": ("positive", "negative")}
Candidates = list[tuple[int, float]]  # (corpus index, score of the mining model), best first


def mine_rows(rows: list[MiningRow], corpus: list[str], store: EmbeddingStore, out: str | Path, *,
              config: MiningConfig | None = None, checker: EmbeddingStore | None = None,
              output_format: str = "flag", with_scores: bool = False, source: str = "",
              corpus_name: str = "", skipped: dict[str, int] | None = None,
              progress: Callable[[str], None] | None = None) -> MiningReport:
    """Mine negatives for `rows` from `corpus` with the model behind `store`; write JSONL to `out` atomically.

    `checker`: the second model's store. `skipped`: input rows not mined for, by reason (for the report).
    The output path is not checked here: `mining.mine` does that before any work.
    """
    config = config or MiningConfig()
    config.check()
    if output_format not in OUTPUT_KEYS:
        raise ValueError(f"output_format is one of {sorted(OUTPUT_KEYS)}, not {output_format!r}")
    if not corpus:
        raise DataError("the candidate corpus is empty", path=corpus_name or None)
    note = progress or (lambda message: None)
    report = MiningReport(source, corpus_name, len(corpus), len(rows), asdict(config),
                          [store.encoder.name] + ([checker.encoder.name] if checker else []),
                          skipped_rows=dict(skipped or {}))

    def mined_records(miner: Miner) -> Iterator[dict[str, Any]]:
        for c0 in range(0, len(rows), config.row_chunk):
            chunk = rows[c0:c0 + config.row_chunk]
            note(f"rows {c0 + 1:,}-{c0 + len(chunk):,} of {len(rows):,}")
            for row, mined in zip(chunk, miner.mine_chunk(chunk, store, checker)):
                yield output_record(row, mined, output_format, with_scores)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="embedlab-mine-") as scratch:
        note(f"embedding {len(corpus):,} candidate passages")
        vectors = embed_corpus(store, corpus, Path(scratch) / "corpus.f32", chunk=config.corpus_chunk)
        report.seconds["embed_corpus"] = round(time.perf_counter() - started, 3)
        miner = Miner(rows, corpus, vectors, config, report)
        write_jsonl(out, mined_records(miner))  # a failure leaves nothing under `out`
        del miner, vectors  # the memory map's file goes with the scratch folder
    report.seconds["total"] = round(time.perf_counter() - started, 3)
    for model_store in [store] + ([checker] if checker else []):
        report.embedding[model_store.encoder.name] = model_store.stats.as_dict()
    report.notes = advice(report)
    return report


def embed_corpus(store: EmbeddingStore, texts: list[str], scratch: Path, *, chunk: int) -> np.ndarray:
    """Unit vectors of `texts` (as documents); a memory map under `scratch` when there is more than one chunk.

    Each chunk is embedded by a fresh store on the same model and cache, so at most one chunk of vectors
    is held besides the map, and `store` keeps none of them (only their counts).
    """
    out = None
    for c0 in range(0, len(texts), chunk):
        part = store.fresh()
        block = part.embed(texts[c0:c0 + chunk], "document")
        store.stats.add(part.stats)
        if len(texts) <= chunk:
            return block
        if out is None:
            out = np.lib.format.open_memmap(scratch, mode="w+", dtype=np.float32,
                                            shape=(len(texts), block.shape[1]))
        out[c0:c0 + len(block)] = block
    out.flush()
    return out


class Miner:
    """What every chunk of rows shares: the corpus, its vectors and search, the known positives, the report.

    Each chunk's queries and positives are embedded by a fresh store (`EmbeddingStore.fresh`), so the
    vectors held do not grow with the number of rows; a positive that is also a candidate is read from
    the corpus vectors rather than embedded again.
    """

    def __init__(self, rows: list[MiningRow], corpus: list[str], vectors: np.ndarray, config: MiningConfig,
                 report: MiningReport) -> None:
        self.corpus, self.vectors, self.config, self.report = corpus, vectors, config, report
        self.depth = min(config.range_max, len(corpus))
        self.index = None
        if config.index != EXACT:
            started = time.perf_counter()
            self.index = search_index(config.index, vectors, seed=config.seed,
                                      purpose=f"mining with --index {config.index}")
            report.seconds["build_index"] = round(time.perf_counter() - started, 3)
        # an approximate index's cost: recall of its candidate lists against exact search, on a seeded sample
        self.recall = RecallSample(len(rows), self.depth, seed=config.seed) if config.index in APPROXIMATE else None
        self.rng = random.Random(config.seed)
        self.known = KnownPositives(rows)
        scored = {t for r in rows for t in r.positives + (r.negatives if config.keep_given else [])}
        self.positions = {text: j for j, text in enumerate(corpus) if text in scored}

    def mine_chunk(self, chunk: list[MiningRow], store: EmbeddingStore,
                   checker: EmbeddingStore | None) -> Iterator[dict[str, Any]]:
        """Per row: {"negatives", "neg_scores", "pos_scores"} (scores of the mining model)."""
        config, report = self.config, self.report
        part = store.fresh()
        queries = part.embed([r.query for r in chunk], "query")
        started = time.perf_counter()
        idx, scores = self.search(queries)
        report.seconds["search"] = round(report.seconds.get("search", 0.0) + time.perf_counter() - started, 3)
        if self.recall is not None:
            self.recall.add(queries, self.vectors, idx)
            report.approximate_search = {"method": config.index, **self.index.settings, **self.recall.summary()}
        pos_scores = row_scores(part, queries, [r.positives for r in chunk], self.vectors, self.positions)
        given = [r.negatives if config.keep_given else [] for r in chunk]
        given_scores = row_scores(part, queries, given, self.vectors, self.positions)
        store.stats.add(part.stats)
        candidates = [self.candidates(row, idx[i], scores[i], float(pos_scores[i].min()),
                                      set(map(text_key, given[i])))
                      for i, row in enumerate(chunk)]
        if checker is not None:
            candidates = self.second_opinion(checker, chunk, candidates)
        for i in range(len(chunk)):
            chosen = self.choose(candidates[i], room=max(config.num_negatives - len(given[i]), 0))
            count = len(chosen) + len(given[i])
            report.negatives_written += count
            report.rows_short += count < config.num_negatives
            report.rows_without_negative += count == 0
            yield {"negatives": list(given[i]) + [self.corpus[j] for j, _ in chosen],
                   "neg_scores": [round(float(s), 6) for s in given_scores[i]] + [round(s, 6) for _, s in chosen],
                   "pos_scores": [round(float(s), 6) for s in pos_scores[i]]}

    def search(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each query's best `depth` candidates (indices, scores), best first: exact blockwise, or by the index."""
        if self.index is None:
            return top_k(queries, self.vectors, self.depth)
        return self.index.search(queries, self.depth)

    def choose(self, survivors: Candidates, room: int) -> Candidates:
        """Up to `room` of the surviving candidates: the hardest, or a seeded sample (still hardest first)."""
        self.report.kept_candidates += len(survivors)
        if self.config.sampling == "top":
            return survivors[:room]
        return sorted(self.rng.sample(survivors, min(room, len(survivors))), key=lambda s: -s[1])

    def candidates(self, row: MiningRow, idx: np.ndarray, scores: np.ndarray, positive: float,
                   taken: set[str]) -> Candidates:
        """The candidates in the rank range that pass the exclusions and filters (`taken`: text keys of
        the given negatives kept); also counts where the row's positive ranked."""
        config, report = self.config, self.report
        exclusions = self.known.exclusions(row)
        positive_rank = None
        kept = []
        for rank in range(len(idx)):
            j, score = int(idx[rank]), float(scores[rank])
            if j < 0:
                break
            same = text_key(self.corpus[j])
            if positive_rank is None and same in exclusions.positives:
                positive_rank = rank + 1
            if rank < config.range_min:
                continue
            report.candidates += 1
            excluded = exclusions.reason(same)
            if excluded == "same_text":
                report.excluded_same_text += 1
            elif excluded == "known_positive":
                report.excluded_known_positive += 1
            elif same not in taken:
                reason = filtered(score, positive, config)
                if reason is None:
                    kept.append((j, score))
                else:
                    report.drop(reason, row, self.corpus[j], rank, score, positive)
        report.count_positive_rank(positive_rank, any(p in self.positions for p in row.positives))
        return kept

    def second_opinion(self, checker: EmbeddingStore, chunk: list[MiningRow],
                       candidates: list[Candidates]) -> list[Candidates]:
        """Keep only candidates the second model also sees as negatives (same margins; default: below the positive)."""
        margins = self.config.second_model_margins()
        part = checker.fresh()
        queries = part.embed([r.query for r in chunk], "query")
        positive = [float(s.min()) for s in row_scores(part, queries, [r.positives for r in chunk])]
        scores = row_scores(part, queries, [[self.corpus[j] for j, _ in row] for row in candidates])
        checker.stats.add(part.stats)
        kept = []
        for i, row in enumerate(chunk):
            keep = []
            for (j, score), second in zip(candidates[i], scores[i]):
                if filtered(float(second), positive[i], margins) is None:
                    keep.append((j, score))
                else:
                    self.report.drop("second_model", row, self.corpus[j], None, float(second), positive[i])
            kept.append(keep)
        return kept


def row_scores(store: EmbeddingStore, queries: np.ndarray, texts: list[list[str]],
               corpus_vectors: np.ndarray | None = None, positions: dict[str, int] | None = None
               ) -> list[np.ndarray]:
    """Per row i: scores of queries[i] against its own texts[i] (one embedding call for the chunk).

    Texts found in `positions` take their vector from `corpus_vectors` instead of being embedded.
    """
    positions = positions or {}
    flat = [t for row in texts for t in row]
    vectors = np.empty((len(flat), queries.shape[1]), np.float32)
    known = [i for i, t in enumerate(flat) if t in positions]
    if known:
        vectors[known] = corpus_vectors[[positions[flat[i]] for i in known]]
    todo = [i for i, t in enumerate(flat) if t not in positions]
    if todo:
        vectors[todo] = store.embed([flat[i] for i in todo], "document")
    bounds = np.cumsum([0] + [len(row) for row in texts])
    return [vectors[a:b] @ queries[i] for i, (a, b) in enumerate(itertools.pairwise(bounds))]


def output_record(row: MiningRow, mined: dict[str, Any], output_format: str, with_scores: bool) -> dict[str, Any]:
    """The row's record with its negatives replaced, in the chosen key style; other fields unchanged."""
    pos_key, neg_key = OUTPUT_KEYS[output_format]
    record = {k: v for k, v in row.record.items() if k not in POSITIVE_KEYS + NEGATIVE_KEYS}
    out = {"query": row.query, pos_key: list(row.positives), neg_key: mined["negatives"]}
    out.update({k: v for k, v in record.items() if k != "query"})
    if with_scores:
        out["pos_scores"], out["neg_scores"] = mined["pos_scores"], mined["neg_scores"]
    return out
