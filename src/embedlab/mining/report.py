"""What a mining run did, as plain data: counts per exclusion and filter, examples, where the positives
ranked, what an approximate search cost (recall against exact search), and advice on the result
(`report.mining` renders it as a table)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from embedlab.mining.filters import FILTERS

if TYPE_CHECKING:
    from embedlab.mining.inputs import MiningRow

RANK_BUCKETS = ("1", "2-10", "11+", "below_range", "not_in_corpus")
MAX_EXAMPLES = 5  # per filter, each from another row


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
    # --search faiss-ivf|faiss-hnsw: the index settings and its recall against exact search on a seeded sample
    approximate_search: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def likely_false_negatives(self) -> int:
        return sum(self.dropped.values())

    def drop(self, reason: str, row: MiningRow, candidate: str, rank: int | None, score: float,
             positive: float) -> None:
        """Count a likely false negative; keep an example of the first few rows it happens in (one per row).
        `rank` is 0-based (None: not ranked, as for the second model)."""
        self.dropped[reason] += 1
        same_reason = [e for e in self.examples if e["reason"] == reason]
        if len(same_reason) < MAX_EXAMPLES and all(e["row"] != row.where for e in same_reason):
            self.examples.append({"row": row.where, "reason": reason, "query": row.query,
                                  "positive": row.positives[0], "candidate": candidate,
                                  "rank": None if rank is None else rank + 1, "score": round(score, 4),
                                  "positive_score": round(positive, 4)})

    def count_positive_rank(self, rank: int | None, in_corpus: bool) -> None:
        """Where the row's own positive ranked (1-based; None: not within the searched depth)."""
        self.positive_rank[rank_bucket(rank, in_corpus)] += 1


def rank_bucket(rank: int | None, in_corpus: bool) -> str:
    if rank is None:
        return "below_range" if in_corpus else "not_in_corpus"
    return "1" if rank == 1 else "2-10" if rank <= 10 else "11+"


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
