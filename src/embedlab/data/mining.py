"""Hard-negative mining with false-negative control.

For each training row, the query searches a candidate corpus (the union of every passage in the file,
or a given corpus); candidates ranked `range_min` .. `range_max` (raw ranks, positives included, as in
FlagEmbedding's `hn_mine --range_for_sampling`) are kept, minus likely false negatives:

- a text equal to one of the row's positives or to the query (the same text as `data.text` defines
  it: NFKC, case, whitespace and punctuation aside), or a positive of another row with the same normalised query: never a negative;
- `absolute_margin`: drop a candidate scoring above `positive - margin`;
- `relative_margin`: drop a candidate scoring above `positive - |positive| * margin`;
- `max_score` / `min_score`: drop candidates above / below a fixed score;
- a second model (`checker`): the margins are applied again with its scores; a candidate must pass both.

"positive" is the lowest score among the row's positives (the cautious choice, as sentence-transformers'
`mine_hard_negatives`). The margins and score limits follow that function's definitions.

Memory is bounded whatever the corpus size and the number of rows: corpus vectors are embedded in
chunks into a float32 memory-mapped file when the corpus is large, the exact search scans it block by
block (`search.exact.top_k`), and rows are embedded, searched and written `row_chunk` at a time, each
chunk by a fresh store, so no vector outlives its chunk. What stays in RAM is the text (the rows and
the corpus, needed for the output), a small index of the positives, and one chunk of vectors.

Where each row's own positive ranks is counted too (`MiningReport.positive_rank`): a model that does not
rank the positives first is a poor miner, whatever the filters do.
"""

from __future__ import annotations

import itertools
import json
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.data.output import is_saved_dataset
from embedlab.data.records import plain, read_records, text_field
from embedlab.data.reranking import (
    NEGATIVE_KEYS,
    POSITIVE_KEYS,
    check_passages,
    row_texts,
)
from embedlab.data.retrieval import (
    find_files,
    is_retrieval_folder,
    join_title,
    load_retrieval,
    read_texts,
)
from embedlab.data.retrieval_rows import retrieval_rows
from embedlab.data.text import text_key
from embedlab.embed import EmbeddingStore
from embedlab.errors import DataError, require
from embedlab.search.exact import top_k

FILTERS = ("absolute_margin", "relative_margin", "max_score", "min_score", "second_model")
RANK_BUCKETS = ("1", "2-10", "11+", "below_range", "not_in_corpus")
MAX_EXAMPLES = 5  # per filter, each from another row
OUTPUT_KEYS = {"flag": ("pos", "neg"), "reranking": ("positive", "negative")}


@dataclass
class MiningConfig:
    range_min: int = 0  # skip the best `range_min` candidates (they are the likeliest false negatives)
    range_max: int = 100  # consider candidates up to this rank
    num_negatives: int = 7  # per row (7 = FinetuneConfig.group_size - 1)
    sampling: str = "top"  # top | random (seeded, among the candidates that survive the filters)
    absolute_margin: float | None = None
    relative_margin: float | None = 0.05
    max_score: float | None = None
    min_score: float | None = None
    keep_given: bool = False  # keep the row's own negatives first, mined ones fill up to num_negatives
    seed: int = 0
    row_chunk: int = 4096  # rows embedded and searched at once
    corpus_chunk: int = 65536  # corpus texts embedded per chunk (into a memory map when larger)
    search: str = "exact"  # exact | faiss

    def check(self) -> None:
        if not 0 <= self.range_min < self.range_max:
            raise ValueError(f"need 0 <= range_min < range_max (got {self.range_min}, {self.range_max})")
        if self.num_negatives < 1:
            raise ValueError("num_negatives must be >= 1")
        if self.sampling not in ("top", "random"):
            raise ValueError(f"sampling is 'top' or 'random', not {self.sampling!r}")
        if self.search not in ("exact", "faiss"):
            raise ValueError(f"search is 'exact' or 'faiss', not {self.search!r}")


@dataclass
class MiningRow:
    """A row to mine for: its query, positives, given negatives and the record it came from."""

    where: str  # file:line
    query: str
    positives: list[str]
    negatives: list[str]
    record: dict[str, Any]  # the original record (other fields are written back unchanged)


@dataclass
class MiningReport:
    source: str
    corpus: str
    corpus_size: int
    rows: int
    config: dict[str, Any]
    models: list[str]
    candidates: int = 0  # candidates in the rank range, before any exclusion
    excluded_same_text: int = 0  # equal to a positive or the query after normalisation
    excluded_known_positive: int = 0  # a positive of another row with the same normalised query
    dropped: dict[str, int] = field(default_factory=lambda: {name: 0 for name in FILTERS})
    kept_candidates: int = 0
    negatives_written: int = 0
    rows_short: int = 0  # rows that got fewer than num_negatives negatives
    rows_without_negative: int = 0
    skipped_rows: dict[str, int] = field(default_factory=dict)  # input rows not mined for (no positive)
    embedding: dict[str, dict[str, float]] = field(default_factory=dict)  # per model: texts encoded, cache hits
    examples: list[dict[str, Any]] = field(default_factory=list)  # dropped as likely false negatives
    # where each row's own positive ranked among the candidates: how well the model finds what it mines around
    positive_rank: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RANK_BUCKETS, 0))
    notes: list[str] = field(default_factory=list)  # advice on the result (see `advice`)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def likely_false_negatives(self) -> int:
        return sum(self.dropped.values())


@dataclass
class MiningInput:
    rows: list[MiningRow]
    corpus: dict[str, str]  # a retrieval folder's corpus (the default candidates), else empty
    skipped: dict[str, int]  # rows that cannot be mined for, by reason (not written to the output)

    def candidates(self) -> list[str]:
        """The default candidate passages: the retrieval folder's corpus, else every passage of the rows."""
        texts = self.corpus.values() if self.corpus else (t for r in self.rows for t in r.positives + r.negatives)
        return list(dict.fromkeys(texts))


def read_rows(path: str | Path, *, split: str | None = None) -> MiningInput:
    """Rows of a reranking/training file, or of a retrieval folder (positives = qrels grade > 0).

    Rows without a positive cannot be mined for: they are skipped and counted.
    """
    path = Path(path)
    if is_retrieval_folder(path):
        task = load_retrieval(path, split=split)
        converted = retrieval_rows(task, source=path)
        rows = [MiningRow(f"{path}:query {record['_id']}", record["query"], record["positive"],
                          record["negative"], {"_id": record["_id"]}) for _, _, record in converted.rows]
        skipped = {**task.skipped, **({"no_positive": converted.no_positive} if converted.no_positive else {})}
        return MiningInput(rows, task.corpus, skipped)
    rows = []
    skipped = {"no_positive": 0}
    for file, line, record in read_records(path, split=split):
        query, positives, negatives = row_texts(record, file, line)
        if not positives:
            skipped["no_positive"] += 1
            continue
        check_passages(positives, negatives, file, line)
        rows.append(MiningRow(f"{file}:{line}", query, positives, negatives,
                              plain(record)))
    if not rows:
        raise DataError("no row with a positive to mine negatives against", path=path)
    return MiningInput(rows, {}, {k: v for k, v in skipped.items() if v})


def read_corpus(path: str | Path) -> list[str]:
    """Candidate passages from a corpus file (JSONL/parquet `{_id?, title?, text}`) or a retrieval folder."""
    path = Path(path)
    if path.is_dir() and not is_saved_dataset(path):
        return list(dict.fromkeys(read_texts(find_files(path, "corpus", None), with_title=True).values()))
    texts = []
    for file, line, record in read_records(path):
        text = text_field(record, ("text",), path=file, line=line)
        title = text_field(record, ("title",), path=file, line=line, required=False) or ""
        texts.append(join_title(title, text))
    return list(dict.fromkeys(t for t in texts if t))


def texts_to_embed(rows: list[MiningRow], corpus: list[str], config: MiningConfig, *,
                   second_model: bool = False) -> dict[str, list[str]]:
    """What mining embeds, per kind (for `estimate.estimate_texts`, before anything is paid for).

    The mining model: every candidate, every query, and the positives (and kept negatives) that are not
    candidates. The second model: the queries, the positives and the candidates it checks, which are
    at most every candidate.
    """
    documents = dict.fromkeys(corpus)
    for row in rows:
        documents.update(dict.fromkeys(row.positives))
        if config.keep_given and not second_model:
            documents.update(dict.fromkeys(row.negatives))
    return {"query": list(dict.fromkeys(row.query for row in rows)), "document": list(documents)}


def mine(rows: list[MiningRow], corpus: list[str], store: EmbeddingStore, out: str | Path, *,
         config: MiningConfig | None = None, checker: EmbeddingStore | None = None,
         output_format: str = "flag", with_scores: bool = False, source: str = "",
         corpus_name: str = "", progress: Callable[[str], None] | None = None) -> MiningReport:
    """Mine negatives for `rows` from `corpus` with the model behind `store`; write JSONL to `out`."""
    config = config or MiningConfig()
    config.check()
    if output_format not in OUTPUT_KEYS:
        raise ValueError(f"output_format is one of {sorted(OUTPUT_KEYS)}, not {output_format!r}")
    if not corpus:
        raise DataError("the candidate corpus is empty", path=corpus_name or None)
    out = Path(out)
    note = progress or (lambda message: None)
    report = MiningReport(source, corpus_name, len(corpus), len(rows), asdict(config),
                          [store.encoder.name] + ([checker.encoder.name] if checker else []))

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="embedlab-mine-") as scratch:
        note(f"embedding {len(corpus):,} candidate passages")
        vectors = embed_corpus(store, corpus, Path(scratch) / "corpus.f32", chunk=config.corpus_chunk)
        report.seconds["embed_corpus"] = round(time.perf_counter() - started, 3)
        miner = _Miner(rows, corpus, vectors, config, report)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".partial")
        with open(tmp, "w", encoding="utf-8") as handle:
            for c0 in range(0, len(rows), config.row_chunk):
                chunk = rows[c0:c0 + config.row_chunk]
                note(f"rows {c0 + 1:,}-{c0 + len(chunk):,} of {len(rows):,}")
                for row, mined in zip(chunk, miner.mine_chunk(chunk, store, checker)):
                    handle.write(json.dumps(_output(row, mined, output_format, with_scores),
                                            ensure_ascii=False) + "\n")
        tmp.replace(out)  # a crash never leaves a truncated output under the final name
        del miner, vectors
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


def _searcher(vectors: np.ndarray, backend: str) -> Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
    if backend == "exact":
        return lambda queries, k: top_k(queries, vectors, k)
    faiss = require("faiss", "mining with --search faiss")
    index = faiss.IndexFlatIP(vectors.shape[1])
    for c0 in range(0, vectors.shape[0], 65536):
        index.add(np.ascontiguousarray(vectors[c0:c0 + 65536], dtype=np.float32))

    def search(queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, idx = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return idx, scores
    return search


class _Miner:
    """What every chunk of rows shares: the corpus, its vectors and search, the known positives, the report.

    Each chunk's queries and positives are embedded by a fresh store (`EmbeddingStore.fresh`), so the
    vectors held do not grow with the number of rows; a positive that is also a candidate is read from
    the corpus vectors rather than embedded again.
    """

    def __init__(self, rows: list[MiningRow], corpus: list[str], vectors: np.ndarray, config: MiningConfig,
                 report: MiningReport) -> None:
        self.corpus, self.vectors, self.config, self.report = corpus, vectors, config, report
        self.search = _searcher(vectors, config.search)
        self.depth = min(config.range_max, len(corpus))
        self.rng = random.Random(config.seed)
        # positives of the other rows with the same query: only queries in several rows need them
        repeated = {q for q, n in Counter(text_key(r.query) for r in rows).items() if n > 1}
        self.positives_of_query: dict[str, set[str]] = {}
        for row in rows:
            if (query := text_key(row.query)) in repeated:
                self.positives_of_query.setdefault(query, set()).update(text_key(p) for p in row.positives)
        scored = {t for r in rows for t in r.positives + (r.negatives if config.keep_given else [])}
        self.positions = {text: j for j, text in enumerate(corpus) if text in scored}

    def mine_chunk(self, chunk: list[MiningRow], store: EmbeddingStore,
                   checker: EmbeddingStore | None) -> Iterator[dict[str, Any]]:
        """Per row: {"negatives", "neg_scores", "pos_scores"} (scores of the mining model)."""
        config, report = self.config, self.report
        part = store.fresh()
        queries = part.embed([r.query for r in chunk], "query")
        started = time.perf_counter()
        idx, scores = self.search(queries, self.depth)
        report.seconds["search"] = round(report.seconds.get("search", 0.0) + time.perf_counter() - started, 3)
        pos_scores = _row_scores(part, queries, [r.positives for r in chunk], self.vectors, self.positions)
        given = [r.negatives if config.keep_given else [] for r in chunk]
        given_scores = _row_scores(part, queries, given, self.vectors, self.positions)
        store.stats.add(part.stats)
        candidates = [self._candidates(row, idx[i], scores[i], float(pos_scores[i].min()),
                                       set(map(text_key, given[i])))
                      for i, row in enumerate(chunk)]
        if checker is not None:
            candidates = self._second_opinion(checker, chunk, candidates)
        for i in range(len(chunk)):
            survivors = candidates[i]
            report.kept_candidates += len(survivors)
            room = max(config.num_negatives - len(given[i]), 0)
            chosen = survivors[:room] if config.sampling == "top" else \
                sorted(self.rng.sample(survivors, min(room, len(survivors))), key=lambda s: -s[1])
            count = len(chosen) + len(given[i])
            report.negatives_written += count
            report.rows_short += count < config.num_negatives
            report.rows_without_negative += count == 0
            yield {"negatives": list(given[i]) + [self.corpus[j] for j, _ in chosen],
                   "neg_scores": [round(float(s), 6) for s in given_scores[i]] + [round(s, 6) for _, s in chosen],
                   "pos_scores": [round(float(s), 6) for s in pos_scores[i]]}

    def _candidates(self, row: MiningRow, idx: np.ndarray, scores: np.ndarray, positive: float,
                    taken: set[str]) -> list[tuple[int, float]]:
        """(corpus index, score) of the candidates in the rank range that pass the exclusions and filters;
        also counts where the row's positive ranked."""
        config, report = self.config, self.report
        positives = {text_key(p) for p in row.positives}
        own = positives | {text_key(row.query)}
        known = self.positives_of_query.get(text_key(row.query), set())
        positive_rank = None
        kept = []
        for rank in range(len(idx)):
            j, score = int(idx[rank]), float(scores[rank])
            if j < 0:
                break
            same = text_key(self.corpus[j])
            if positive_rank is None and same in positives:
                positive_rank = rank + 1
            if rank < config.range_min:
                continue
            report.candidates += 1
            if same in own:
                report.excluded_same_text += 1
            elif same in known:
                report.excluded_known_positive += 1
            elif same not in taken:
                reason = _filtered(score, positive, config)
                if reason is None:
                    kept.append((j, score))
                else:
                    _drop(report, reason, row, self.corpus[j], rank, score, positive)
        in_corpus = any(p in self.positions for p in row.positives)
        report.positive_rank[_rank_bucket(positive_rank, in_corpus)] += 1
        return kept

    def _second_opinion(self, checker: EmbeddingStore, chunk: list[MiningRow],
                        candidates: list[list[tuple[int, float]]]) -> list[list[tuple[int, float]]]:
        """Keep only candidates the second model also sees as negatives (same margins; default: below the positive)."""
        margins = MiningConfig(absolute_margin=self.config.absolute_margin,
                               relative_margin=self.config.relative_margin)
        if margins.absolute_margin is None and margins.relative_margin is None:
            margins.absolute_margin = 0.0
        part = checker.fresh()
        queries = part.embed([r.query for r in chunk], "query")
        positive = [float(s.min()) for s in _row_scores(part, queries, [r.positives for r in chunk])]
        scores = _row_scores(part, queries, [[self.corpus[j] for j, _ in row] for row in candidates])
        checker.stats.add(part.stats)
        kept = []
        for i, row in enumerate(chunk):
            keep = []
            for (j, score), second in zip(candidates[i], scores[i]):
                if _filtered(float(second), positive[i], margins) is None:
                    keep.append((j, score))
                else:
                    _drop(self.report, "second_model", row, self.corpus[j], None, float(second), positive[i])
            kept.append(keep)
        return kept


def _row_scores(store: EmbeddingStore, queries: np.ndarray, texts: list[list[str]],
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


def _rank_bucket(rank: int | None, in_corpus: bool) -> str:
    if rank is None:
        return "below_range" if in_corpus else "not_in_corpus"
    return "1" if rank == 1 else "2-10" if rank <= 10 else "11+"


def _drop(report: MiningReport, reason: str, row: MiningRow, candidate: str, rank: int | None,
          score: float, positive: float) -> None:
    """Count a likely false negative; keep an example of the first few rows it happens in (one per row)."""
    report.dropped[reason] += 1
    same_reason = [e for e in report.examples if e["reason"] == reason]
    if len(same_reason) < MAX_EXAMPLES and all(e["row"] != row.where for e in same_reason):
        report.examples.append({"row": row.where, "reason": reason, "query": row.query,
                                "positive": row.positives[0], "candidate": candidate,
                                "rank": None if rank is None else rank + 1, "score": round(score, 4),
                                "positive_score": round(positive, 4)})


def advice(report: MiningReport) -> list[str]:
    """What a user should know before training on the output: a miner that does not find the positives,
    filters that left many rows without negatives."""
    notes = []
    ranks = report.positive_rank
    located = sum(n for bucket, n in ranks.items() if bucket != "not_in_corpus")
    if located and ranks["1"] / located < 0.5:
        notes.append(f"the model ranks the row's own positive first in only {ranks['1'] / located:.0%} of the "
                     f"{located:,} rows whose positive is a candidate (below rank {report.config['range_max']}: "
                     f"{ranks['below_range']:,}): a miner that does not find the positives mines noise and false "
                     "negatives; check it on this data with `embedlab eval`, or mine with a stronger model")
    if report.rows and report.rows_without_negative / report.rows > 0.1:
        notes.append(f"{report.rows_without_negative:,} of {report.rows:,} rows "
                     f"({report.rows_without_negative / report.rows:.0%}) got no mined negative: the filters "
                     "dropped every candidate in the rank range (see the examples); a wider --range-max, a "
                     "smaller --relative-margin or an --absolute-margin suited to the model's scores keeps more")
    return notes


def _filtered(score: float, positive: float, config: MiningConfig) -> str | None:
    """The first filter that marks `score` as a likely false negative against the `positive` score."""
    if config.absolute_margin is not None and score > positive - config.absolute_margin:
        return "absolute_margin"
    if config.relative_margin is not None and score > positive - abs(positive) * config.relative_margin:
        return "relative_margin"
    if config.max_score is not None and score > config.max_score:
        return "max_score"
    if config.min_score is not None and score < config.min_score:
        return "min_score"
    return None


def _output(row: MiningRow, mined: dict[str, Any], output_format: str, with_scores: bool) -> dict[str, Any]:
    """The row's record with its negatives replaced, in the chosen key style; other fields unchanged."""
    pos_key, neg_key = OUTPUT_KEYS[output_format]
    record = {k: v for k, v in row.record.items() if k not in POSITIVE_KEYS + NEGATIVE_KEYS}
    out = {"query": row.query, pos_key: list(row.positives), neg_key: mined["negatives"]}
    out.update({k: v for k, v in record.items() if k != "query"})
    if with_scores:
        out["pos_scores"], out["neg_scores"] = mined["pos_scores"], mined["neg_scores"]
    return out
