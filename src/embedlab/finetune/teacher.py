"""Distillation from a reranker: a teacher scores each training row's (query, positive, negatives) once, and the
student learns its scores (MarginMSE or KL over each query's group: sentence-transformers' losses).

- Teacher: `ce:PATH` (a local cross-encoder, e.g. `best/` of `embedlab finetune --cross-encoder`),
  `rerank:<model>` or `qianfan-rerank:<model>` (rerank APIs), or a PairScorer. Pairs go through the run's pair
  store (`RunContext.pairs`): each distinct pair scored once, cached and resumable; an API teacher's pairs are
  estimated and checked against `--max-cost` before the first request. A teacher returning the wrong number of
  scores fails with one line (the pair store checks every batch).
- False negatives: a row's negative the teacher scores above its positive minus `relative_margin` x |positive|
  is dropped, `embedlab mine`'s rule (`mining.filters.filtered`; the row's lowest positive, as mine takes); rows
  left short are filled with random passages of other rows, as without a teacher. Both are counted.
- Score scale: the teacher's scores are checked. All in [0, 1] is a probability (a cross-encoder's sigmoid,
  a rerank API's relevance); else a logit. MarginMSE compares margins with the student's cosine margins, so it
  takes probabilities (a logit teacher goes through a sigmoid); KL takes logits (a probability teacher goes
  through log(p / (1 - p))), and the student's cosines are scaled by 1 / `temperature`, as InfoNCE's.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from typing import Any

from embedlab.data.training import TrainingData
from embedlab.errors import ModelError
from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.examples import Examples
from embedlab.mining.config import MiningConfig
from embedlab.mining.filters import filtered
from embedlab.run.options import RunOptions

PROBABILITY_EPSILON = 1e-6  # a probability of exactly 0 or 1 becomes this far from it before its logit


def label_examples(examples: Examples, data: TrainingData, build, config: FinetuneConfig, run: RunOptions,
                   teacher=None, announce=print) -> tuple[Examples, dict[str, Any]]:
    """`build(data) -> Examples` again on the rows the teacher's false-negative rule leaves, each example with its
    teacher scores (`label`: positive first) on the loss's scale; and what the summary reports."""
    from embedlab.models.registry import load_reranker
    from embedlab.run.context import RunContext

    model = load_reranker(teacher if teacher is not None else config.teacher, run.reranker_options or _options())
    try:
        with RunContext(run) as ctx:
            _check_cost(ctx, model, data, run)
            store = ctx.pairs(model)
            kept, counts = _false_negatives(data, store, config.relative_margin)
            examples = build(kept) if counts["dropped"] else examples
            scores = [store.scores([(query, text) for text in candidates]).tolist()
                      for query, candidates in examples.raw]
            stats = store.stats.as_dict()
    finally:
        if teacher is None:
            model.close()
    own: dict[str, set[str]] = {}
    for row in data.rows:
        own.setdefault(row.query, set()).update((*row.positives, *row.negatives))
    counts["fills_above_positive"] = sum(score > row[0] for (query, candidates), row in zip(examples.raw, scores)
                                         for text, score in zip(candidates[1:], row[1:])
                                         if text not in own.get(query, ()))
    scale = "probability" if all(0.0 <= s <= 1.0 for row in scores for s in row) else "logit"
    labels = [[_on_loss_scale(s, scale, config.distill_loss) for s in row] for row in scores]
    columns = {**examples.columns, "label": labels}
    facts = {"model": model.name, "loss": config.distill_loss, "scale": scale,
             "scale_used": "probability" if config.distill_loss == "margin-mse" else "logit",
             "relative_margin": config.relative_margin, **counts, "pairs": stats}
    kind = "probabilities (in [0, 1])" if scale == "probability" else "logits"
    announce(f"teacher {model.name}: {stats['unique_pairs']:,} pairs ({stats['cache_hits']:,} from the cache); "
             f"scores are {kind}; {counts['above_positive']:,} negatives scored above their positive, "
             f"{counts['dropped']:,} dropped as likely false negatives (relative margin {config.relative_margin})")
    return Examples(columns, {**examples.counts, "teacher_dropped_negatives": counts["dropped"]}, examples.raw), facts


def _options():
    from embedlab.models.base import ModelOptions

    return ModelOptions()


def _check_cost(ctx, model, data: TrainingData, run: RunOptions) -> None:
    """An API teacher: its pairs estimated (the rows' candidates; fills add a few) and checked against max_cost."""
    if not model.paid:
        return
    from embedlab.run.estimate import estimate_reranker
    from embedlab.tasks.reranking import RerankingTask, RerankRow

    rows = [RerankRow(str(i), row.query, row.positives, row.negatives) for i, row in enumerate(data.rows)]
    ctx.check_costs([estimate_reranker(model, [RerankingTask("train", rows)], 0, cache=run.cache,
                                       price_per_mtok=run.price_per_mtok)])


def _false_negatives(data: TrainingData, store, margin: float) -> tuple[TrainingData, dict[str, int]]:
    """The rows without the negatives the teacher scores as likely positives (mine's relative-margin rule)."""
    pairs = [(row.query, text) for row in data.rows for text in (*row.positives, *row.negatives)]
    scores = iter(store.scores(pairs).tolist())
    rule = MiningConfig(relative_margin=margin)
    rows, above, dropped = [], 0, 0
    for row in data.rows:
        positive = min(next(scores) for _ in row.positives)
        negatives = [(text, next(scores)) for text in row.negatives]
        above += sum(score > positive for _, score in negatives)
        keep = tuple(text for text, score in negatives if filtered(score, positive, rule) is None)
        dropped += len(negatives) - len(keep)
        rows.append(replace(row, negatives=keep))
    return replace(data, rows=rows), {"above_positive": above, "dropped": dropped}


def _on_loss_scale(score: float, scale: str, loss: str) -> float:
    if loss == "margin-mse" and scale == "logit":
        return 1.0 / (1.0 + math.exp(-score))
    if loss == "kl" and scale == "probability":
        p = min(max(score, PROBABILITY_EPSILON), 1.0 - PROBABILITY_EPSILON)
        return math.log(p / (1.0 - p))
    return score


def scaled_cosine(a, b, scale: float):
    """The student's score in the KL loss: cosine x 1 / temperature (InfoNCE's scale)."""
    from sentence_transformers.util import pairwise_cos_sim

    return pairwise_cos_sim(a, b) * scale


def distillation_loss(losses, model, config: FinetuneConfig):
    """MarginMSE on cosine margins, or KL with the student's cosines at InfoNCE's scale."""
    from sentence_transformers.util import pairwise_cos_sim

    if config.distill_loss == "margin-mse":
        return losses.MarginMSELoss(model, similarity_fct=pairwise_cos_sim)
    if config.group_size < 2:
        raise ModelError("the KL loss needs at least one negative per query (--group-size 2 or more)")
    return losses.DistillKLDivLoss(model, similarity_fct=functools.partial(scaled_cosine,
                                                                            scale=1.0 / config.temperature))
