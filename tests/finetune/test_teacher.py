"""Distillation: a teacher's scores through the pair store (once, cached), mine's false-negative rule on them, the
score scale each loss needs, the cost check of a paid teacher, a teacher giving the wrong count; then a run."""

import math

import numpy as np
import pytest

from embedlab.data.training import TrainingData, TrainRow
from embedlab.demo import RERANKING
from embedlab.errors import EmbedlabError, ModelError
from embedlab.finetune import FinetuneConfig, finetune
from embedlab.finetune.examples import build_examples
from embedlab.finetune.teacher import label_examples
from embedlab.mining.config import MiningConfig
from embedlab.mining.filters import filtered
from embedlab.models.base import PairScorer
from embedlab.run.options import RunOptions


class Table(PairScorer):
    """Scores by passage (0.5 for any other); counts the pairs it was asked for."""

    def __init__(self, scores: dict[str, float], *, paid: bool = False, short: bool = False) -> None:
        self.name, self.scores, self.paid, self.short, self.asked = "table", scores, paid, short, 0

    def score_pairs(self, pairs):
        self.asked += len(pairs)
        scores = np.array([self.scores.get(p, 0.5) for _, p in pairs], dtype=np.float32)
        return scores[:-1] if self.short else scores


ROWS = TrainingData([TrainRow(1, "q1", ("pos",), ("above", "close", "low")),
                     TrainRow(2, "q2", ("pos2",), ("n2",)), TrainRow(3, "q3", ("pos3",), ("n3",))], "rows")
SCORES = {"pos": 0.8, "above": 0.9, "close": 0.78, "low": 0.2, "pos2": 0.7, "n2": 0.1, "pos3": 0.6, "n3": 0.3}


def _label(teacher, loss="margin-mse", run=None, rows=ROWS):
    config = FinetuneConfig(group_size=3, distill_loss=loss)

    def build(data):
        return build_examples(data, group_size=3, seed=0)

    notes = []
    examples, facts = label_examples(build(rows), rows, build, config, run or RunOptions(), teacher, notes.append)
    return examples, facts, notes


def test_negatives_the_teacher_ranks_as_positives_are_dropped_by_mines_rule():
    examples, facts, notes = _label(Table(SCORES))
    assert facts["above_positive"] == 1 and facts["dropped"] == 2  # "above" (0.9) and "close" (0.78 > 0.8 - 0.04)
    rule = MiningConfig(relative_margin=0.05)
    assert filtered(0.78, 0.8, rule) == "relative_margin" and filtered(0.2, 0.8, rule) is None
    first = examples.raw[0]
    assert first[0] == "q1" and first[1][0] == "pos" and "above" not in first[1] and "close" not in first[1]
    assert "low" in first[1]  # the row's negative that passed; a fill from another row tops it up
    assert examples.labels[0] == pytest.approx([SCORES.get(text, 0.5) for text in first[1]])
    assert facts["scale"] == "probability" and "2 dropped as likely false negatives" in notes[0]


def test_each_loss_gets_the_scale_it_needs():
    logits = {key: 10 * value - 5 for key, value in SCORES.items()}  # outside [0, 1]: a logit teacher
    examples, facts, _ = _label(Table(logits), "margin-mse")
    raw = [logits.get(text, 0.5) for text in examples.raw[0][1]]
    assert facts["scale"] == "logit" and examples.labels[0] == pytest.approx([1 / (1 + math.exp(-s)) for s in raw])
    examples, facts, _ = _label(Table(SCORES), "kl")
    probabilities = [SCORES.get(text, 0.5) for text in examples.raw[0][1]]
    assert facts["scale_used"] == "logit" and examples.labels[0] == pytest.approx(
        [math.log(p / (1 - p)) for p in probabilities])


def test_a_teacher_giving_the_wrong_count_is_one_error():
    with pytest.raises(ModelError, match=r"reranker 'table' returned shape \(\d+,\) for \d+ pairs"):
        _label(Table(SCORES, short=True))


def test_a_paid_teacher_is_estimated_and_refused_above_max_cost_before_any_request():
    teacher = Table(SCORES, paid=True)
    with pytest.raises(EmbedlabError, match="not within --max-cost"):
        _label(teacher, run=RunOptions(max_cost=0.0, cache=False, announce=lambda line: None))
    assert teacher.asked == 0


def test_distillation_runs_with_both_losses_and_scores_each_pair_once(tiny_model, tiny_cross_encoder, tmp_path):
    cache = tmp_path / "cache.sqlite"
    common = dict(max_steps=2, eval_every=2, batch_size=8, group_size=4, learning_rate=1e-3, warmup_ratio=0.0,
                  teacher=f"ce:{tiny_cross_encoder}")
    first = finetune(str(tiny_model), RERANKING, tmp_path / "mse", test=RERANKING, run=RunOptions(cache=cache),
                     config=FinetuneConfig(distill_loss="margin-mse", **common))
    assert first.summary["loss"] == "MarginMSELoss" and first.summary["teacher"]["pairs"]["pairs_scored"] > 0
    assert first.summary["memory"]["chosen"]["mode"] == "plain"  # no GradCache variant of these losses
    second = finetune(str(tiny_model), RERANKING, tmp_path / "kl", test=RERANKING, run=RunOptions(cache=cache),
                      config=FinetuneConfig(distill_loss="kl", **common))
    teacher = second.summary["teacher"]
    assert second.summary["loss"] == "DistillKLDivLoss" and teacher["pairs"]["pairs_scored"] == 0
    assert teacher["pairs"]["cache_hits"] == first.summary["teacher"]["pairs"]["unique_pairs"]  # resumable
    assert teacher["scale"] == "probability" and teacher["scale_used"] == "logit"
    assert second.curve.loss and all(np.isfinite(p["loss"]) for p in second.curve.loss)
    with pytest.raises(EmbedlabError, match=r"distill-loss kl -> margin-mse.*--no-resume"):
        finetune(str(tiny_model), RERANKING, tmp_path / "kl", test=RERANKING,
                 config=FinetuneConfig(distill_loss="margin-mse", **{**common, "max_steps": 3}))
