"""A reranking task: each row ranks its own candidates (positives + negatives) for one query."""

from __future__ import annotations

from dataclasses import dataclass, field

from embedlab.tasks.fingerprint import content_hash


@dataclass(frozen=True)
class RerankRow:
    id: str
    query: str
    positives: tuple[str, ...]
    negatives: tuple[str, ...]

    @property
    def candidates(self) -> tuple[str, ...]:
        return self.positives + self.negatives


@dataclass
class RerankingTask:
    """Rows that can be scored; `skipped` counts rows left out (by reason), as mteb leaves them out."""

    name: str
    rows: list[RerankRow]
    source: str = ""
    skipped: dict[str, int] = field(default_factory=dict)
    sample: dict | None = None  # set by tasks.sampling: {"n", "of", "seed", ...}
    dataset: dict | None = None  # where a published task was read from (`data.resolve.load_cmteb`)

    type = "reranking"

    def texts(self, kind: str) -> list[str]:
        """What gets encoded, per kind ("query" or "document"), in task order."""
        return [row.query for row in self.rows] if kind == "query" else [text for row in self.rows for text in row.candidates]

    def fingerprint(self) -> str:
        return content_hash([[r.id, r.query, r.positives, r.negatives] for r in self.rows])

    def counts(self) -> dict[str, int]:
        return {
            "rows": len(self.rows),
            "rows_skipped": sum(self.skipped.values()),
            **{f"skipped_{reason}": n for reason, n in sorted(self.skipped.items())},
            "candidates": sum(len(r.candidates) for r in self.rows),
        }
