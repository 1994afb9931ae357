"""`finetune --cross-encoder`: a reranker trained with the embedding run's curve; best/ is `eval --reranker`'s model
at the curve's best number and loads as a distillation teacher."""

import pytest

from embedlab import evaluate
from embedlab.data.training import TrainingData, TrainRow
from embedlab.demo import RERANKING
from embedlab.errors import EmbedlabError
from embedlab.finetune import FinetuneConfig
from embedlab.finetune.reranker import finetune_cross_encoder, pairs
from embedlab.models import ModelOptions
from embedlab.models.registry import load_reranker
from embedlab.run.options import RunOptions


def test_pairs_label_positives_1_and_a_seeded_sample_of_negatives_0():
    data = TrainingData([TrainRow(1, "q", ("p1", "p2"), ("n1", "n2", "n3"))], "rows")
    columns = pairs(data, negatives=2, seed=0)
    assert columns["query"] == ["q"] * 6 and columns["label"] == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert columns["passage"][0] == "p1" and columns["passage"][3] == "p2"
    assert set(columns["passage"][1:3]) <= {"n1", "n2", "n3"} and pairs(data, 2, 0) == columns


def test_a_cross_encoder_run_has_the_curve_and_its_best_is_evals_reranker(tiny_model, tmp_path):
    config = FinetuneConfig(max_steps=4, eval_every=2, batch_size=8, group_size=3, learning_rate=5e-4,
                            warmup_ratio=0.0, keep_checkpoints=None)
    notes = []
    run = finetune_cross_encoder(str(tiny_model), RERANKING, tmp_path / "ce", test=RERANKING, config=config,
                                 run=RunOptions(announce=notes.append))
    assert [p["step"] for p in run.curve.points] == [0, 2, 4] and run.summary["kind"] == "cross-encoder"
    assert [n.split(":")[0] for n in notes if n.startswith("step ")] == ["step 0", "step 2", "step 4"]
    assert (tmp_path / "ce" / "curve.png").exists() and run.summary["loss"] == "BinaryCrossEntropyLoss"
    reranked = evaluate(str(tiny_model), RERANKING, model=ModelOptions(device="cpu"),
                        run=RunOptions(reranker=str(run.best_dir)))
    alone = [r for r in reranked.runs if r.model["name"] == str(run.best_dir)][0]  # the reranker alone on the rows
    assert alone.tasks[0].scores["v1.map"] == pytest.approx(run.summary["best"], abs=1e-9)
    for checkpoint in (tmp_path / "ce").glob("checkpoint-*"):
        step = int(checkpoint.name.split("-")[1])
        scored = evaluate(str(tiny_model), RERANKING, model=ModelOptions(device="cpu"),
                          run=RunOptions(reranker=str(checkpoint)))
        value = [r for r in scored.runs if r.model["name"] == str(checkpoint)][0].tasks[0].scores["v1.map"]
        assert value == pytest.approx(next(p for p in run.curve.points if p["step"] == step)["scores"]["test"][
            "v1.map"], abs=1e-9)
    teacher = load_reranker(f"ce:{run.best_dir}", ModelOptions(device="cpu"))
    assert teacher.score_pairs([("q", "p")]).shape == (1,)
    again = finetune_cross_encoder(str(tiny_model), RERANKING, tmp_path / "ce", test=RERANKING, config=config)
    assert again.already_complete
    with pytest.raises(EmbedlabError, match=r"lr 0.0005 -> 0.001"):
        finetune_cross_encoder(str(tiny_model), RERANKING, tmp_path / "ce", test=RERANKING,
                               config=FinetuneConfig(**{**config.as_dict(), "learning_rate": 1e-3}))
