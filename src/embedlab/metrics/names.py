"""Metric identities are strings users type: `ndcg@10`, `map@1000`, `recall@100`, `mrr@10`, `p@5`, and the
score names of results, which add the reranking semantics: `v1.map`, `v1.mrr@10` (C-MTEB / mteb 1.x) and
`v2.<metric>` (mteb 2.x). Every name a user types is parsed here."""

from __future__ import annotations

from dataclasses import dataclass

from embedlab.errors import UnknownNameError

# measure name -> pytrec_eval measure it equals (mrr is mteb's own, with trec_eval's ranking)
MEASURES = {
    "ndcg": "ndcg_cut",
    "map": "map_cut",
    "recall": "recall",
    "precision": "P",
    "mrr": "recip_rank@k (mteb)",
    "hit_rate": "success",
}
ALIASES = {"p": "precision", "success": "hit_rate", "ap": "map", "rr": "mrr", "ndcg_cut": "ndcg",
           "map_cut": "map", "hitrate": "hit_rate"}
DEFAULT_K = (1, 3, 5, 10, 20, 100, 1000)


@dataclass(frozen=True, order=True)
class Metric:
    measure: str
    k: int

    def __str__(self) -> str:
        return f"{self.measure}@{self.k}"


def parse_metric(text: str) -> Metric:
    """`'nDCG@10'` -> Metric('ndcg', 10); helpful errors on typos."""
    name, sep, cutoff = text.strip().lower().partition("@")
    name = ALIASES.get(name, name)
    if name not in MEASURES:
        raise UnknownNameError("metric", name, MEASURES)
    if not sep or not cutoff.isdigit() or int(cutoff) < 1:
        raise UnknownNameError("metric cutoff", text, [f"{name}@{k}" for k in DEFAULT_K])
    return Metric(name, int(cutoff))


def all_metrics(k_values: tuple[int, ...] = DEFAULT_K) -> list[Metric]:
    return [Metric(m, k) for m in MEASURES for k in k_values]


V1_SCORES = ("v1.map", "v1.mrr@10")  # C-MTEB's RerankingEvaluator: MAP over the whole row, MRR@10


def score_name(text: str) -> str:
    """Normalise a score name users type: `v1.map`, `V1.MRR@10`, `v2.map@1000`, `nDCG@10` -> `ndcg@10`."""
    text = text.strip()
    if text.lower() in V1_SCORES:
        return text.lower()
    prefix, _, rest = text.rpartition(".")
    if prefix.lower() not in ("", "v2"):
        raise UnknownNameError("score prefix", prefix, ["v1", "v2"])
    return (prefix.lower() + "." if prefix else "") + str(parse_metric(rest))


# scores of other commands that are fractions too: chunking's span and answer scores, sweep's neighbour recall
FRACTIONS = ("span_recall", "span_precision", "span_iou", "answer_hit", "document_hit", "neighbour_recall")
COUNTS = ("context_tokens", "answer_rank")  # scores that count (tokens, a rank): 0 or more


def score_range(name: str) -> tuple[float, float]:
    """The values a score of this name can take (a mean or a query's): [0, 1] for every ranking metric and
    fraction, [0, inf) for a count; a name embedlab does not know is only bounded by being finite."""
    base = name.partition("@")[0]
    if base in FRACTIONS:
        return 0.0, 1.0
    if base in COUNTS:
        return 0.0, float("inf")
    try:
        score_name(name)
    except UnknownNameError:
        return float("-inf"), float("inf")
    return 0.0, 1.0
