"""A retrieval task: every query searches the whole corpus; qrels grade the relevant documents."""

from __future__ import annotations

from dataclasses import dataclass, field

from embedlab.tasks.fingerprint import content_hash


@dataclass
class RetrievalTask:
    """Corpus texts are what gets encoded (mteb joins title and text: `f"{title} {text}".strip()`).

    `queries` holds only the queries that have judgments; `skipped` counts the others (as mteb drops them).
    """

    name: str
    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    source: str = ""
    skipped: dict[str, int] = field(default_factory=dict)
    sample: dict | None = None  # set by tasks.sampling: {"n", "of", "seed", ...}
    dataset: dict | None = None  # where a published task was read from (`data.resolve.load_cmteb`)

    type = "retrieval"

    def texts(self, kind: str) -> list[str]:
        """What gets encoded, per kind ("query" or "document"), in task order."""
        return list(self.queries.values()) if kind == "query" else list(self.corpus.values())

    def fingerprint(self) -> str:
        return content_hash(
            [sorted(self.corpus.items()), sorted(self.queries.items()),
             sorted((q, sorted(d.items())) for q, d in self.qrels.items())]
        )

    def counts(self) -> dict[str, int]:
        return {
            "queries": len(self.queries),
            "queries_skipped": sum(self.skipped.values()),
            **{f"skipped_{reason}": n for reason, n in sorted(self.skipped.items())},
            "documents": len(self.corpus),
            "judgments": sum(len(d) for d in self.qrels.values()),
            # judged, but only as not relevant: they score 0 in every mean (as in mteb and pytrec_eval)
            "queries_without_relevant": sum(not any(g > 0 for g in d.values()) for d in self.qrels.values()),
        }
