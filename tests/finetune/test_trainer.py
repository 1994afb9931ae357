"""The trainer as configured: the loss chosen by the mini-batch, the NO_DUPLICATES sampler, the evaluation
schedule, and checkpoints saved at the deployment max length while the model trains at the training one."""

from __future__ import annotations

import pytest

from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.examples import Examples
from embedlab.finetune.trainer import Setup, build_trainer
from embedlab.results.curve import Curve

st = pytest.importorskip("sentence_transformers")
pytest.importorskip("accelerate")


def _trainer(tiny_model, tmp_path, *, mini_batch=None, eval_every=None, max_length=None):
    model = st.SentenceTransformer(str(tiny_model), device="cpu")
    model.max_seq_length = 16  # the training length
    examples = Examples({"anchor": ["q1", "q2"], "positive": ["p1", "p2"], "negative_1": ["n1", "n2"]})
    setup = Setup(model, "cpu", "fp32", examples, steps_per_epoch=1, total_steps=4, max_length=max_length)
    config = FinetuneConfig(eval_every=eval_every, batch_size=2)
    return build_trainer(st, setup, _Evaluator(), Curve("test/v1.map"), config, tmp_path, mini_batch=mini_batch,
                         verbose=False, eval_on_start=False, callbacks=[])


def _Evaluator():
    from sentence_transformers.evaluation import SentenceEvaluator

    class Constant(SentenceEvaluator):
        def __init__(self):
            super().__init__()
            self.primary_metric, self.greater_is_better = "test_v1.map", True

        def __call__(self, model, output_path=None, epoch=-1, steps=-1):
            return {"test_v1.map": 0.5}
    return Constant()


def test_the_loss_follows_the_mini_batch_and_batches_have_no_duplicates(tiny_model, tmp_path):
    plain = _trainer(tiny_model, tmp_path / "a")
    cached = _trainer(tiny_model, tmp_path / "b", mini_batch=1)
    assert type(plain.loss).__name__ == "MultipleNegativesRankingLoss"
    assert type(cached.loss).__name__ == "CachedMultipleNegativesRankingLoss" and cached.loss.mini_batch_size == 1
    assert plain.loss.scale == pytest.approx(1 / 0.02)
    assert getattr(plain.args.batch_sampler, "value", plain.args.batch_sampler) == "no_duplicates"
    assert plain.args.eval_strategy == "epoch" and _trainer(tiny_model, tmp_path / "c", eval_every=2).args.eval_steps == 2


def test_checkpoints_are_saved_at_the_deployment_length(tiny_model, tmp_path):
    trainer = _trainer(tiny_model, tmp_path, max_length=48)
    trainer.save_model(str(tmp_path / "saved"))
    assert st.SentenceTransformer(str(tmp_path / "saved"), device="cpu").max_seq_length == 48
    assert trainer.model.max_seq_length == 16  # training goes on at the training length
