"""Metrics over arrays: pytrec_eval-equivalent ranking metrics and C-MTEB v1 reranking metrics."""

from embedlab.metrics.names import DEFAULT_K, V1_SCORES, Metric, all_metrics, parse_metric, score_name
from embedlab.metrics.reranking_v1 import average_precision, mrr_at_k
from embedlab.metrics.trec import ideal_matrix, ranking_metrics

__all__ = ["DEFAULT_K", "V1_SCORES", "Metric", "all_metrics", "average_precision", "ideal_matrix", "mrr_at_k",
           "parse_metric", "ranking_metrics", "score_name"]
