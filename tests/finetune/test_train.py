"""End to end on a tiny random BERT: train, the curve, best/, resume, GradCache equivalence."""

import json

import numpy as np
import pytest

from embedlab import evaluate
from embedlab.models import ModelOptions
from embedlab.demo import RERANKING
from embedlab.errors import EmbedlabError, UnknownNameError
from embedlab.finetune import FinetuneConfig, finetune
from tests.conftest import write_jsonl

FAST = dict(batch_size=8, group_size=4, learning_rate=1e-3, warmup_ratio=0.0)


def test_training_learns_every_checkpoint_is_on_the_curve_and_best_is_kept(tiny_model, tmp_path):
    run = finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING,
                   config=FinetuneConfig(epochs=2, eval_every=2, **{**FAST, "batch_size": 10}))
    steps = [p["step"] for p in run.curve.points]
    assert run.summary["steps_per_epoch"] == 5  # 42 examples (one per positive) / 10
    assert steps == [0, 2, 4, 5, 6, 8, 10]  # every 2 steps, plus each epoch end
    assert sorted(int(p.name.split("-")[1]) for p in (tmp_path / "run").glob("checkpoint-*")) == steps[1:]
    s = run.summary
    assert s["best"] > s["base"] + 0.1 and s["significant"] and s["delta"]["low"] > 0
    assert s["best_step"] == run.curve.best()["step"] > 0
    assert run.curve.loss and run.curve.loss[0]["loss"] > run.curve.loss[-1]["loss"]
    from embedlab.data import load_reranking

    test_queries = set(load_reranking(RERANKING).texts("query"))
    assert s["leakage"]["test"] == len(test_queries) > 30  # trained on the test rows: reported
    assert set(run.curve.points[0]["health"]) == {"mean_pairwise_cosine", "score_spread", "effective_rank"}
    assert (tmp_path / "run" / "curve.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((tmp_path / "run" / "curve.json").read_text())
    assert [p["step"] for p in saved["points"]] == steps
    assert not (run.best_dir / "optimizer.pt").exists()
    # best/ loads with `evaluate` and gives exactly the curve's number for that step
    again = evaluate(str(run.best_dir), RERANKING, model=ModelOptions(device="cpu"))
    assert again.runs[0].tasks[0].scores["v1.map"] == pytest.approx(s["best"], abs=1e-9)


def test_resume_after_a_crash_gives_the_uninterrupted_curve(tiny_model, tmp_path):
    from transformers import TrainerCallback

    class Crash(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 5:
                raise KeyboardInterrupt

    config = FinetuneConfig(max_steps=8, eval_every=2, **FAST)
    whole = finetune(str(tiny_model), RERANKING, tmp_path / "whole", test=RERANKING, config=config)
    with pytest.raises(KeyboardInterrupt):
        finetune(str(tiny_model), RERANKING, tmp_path / "crashed", test=RERANKING, config=config,
                 callbacks=[Crash()])
    assert [p["step"] for p in json.loads((tmp_path / "crashed" / "curve.json").read_text())["points"]] \
        == [0, 2, 4]
    notes = []
    resumed = finetune(str(tiny_model), RERANKING, tmp_path / "crashed", test=RERANKING, config=config,
                       announce=notes.append)
    assert any("resuming from checkpoint-4" in n for n in notes)
    assert [p["step"] for p in resumed.curve.points] == [p["step"] for p in whole.curve.points]
    for a, b in zip(resumed.curve.points, whole.curve.points):
        assert a["scores"]["test"]["v1.map"] == pytest.approx(b["scores"]["test"]["v1.map"], abs=1e-6)


def test_gradcache_matches_the_plain_loss(tiny_model_without_dropout, tmp_path):
    """CachedMultipleNegativesRankingLoss computes the same gradients in mini-batches."""
    runs = {}
    for name, mini in (("plain", None), ("cached", 2)):
        runs[name] = finetune(str(tiny_model_without_dropout), RERANKING, tmp_path / name, test=RERANKING,
                              config=FinetuneConfig(max_steps=2, eval_every=2, mini_batch_size=mini, **FAST))
    assert runs["plain"].summary["loss"] == "MultipleNegativesRankingLoss"
    assert runs["cached"].summary["loss"] == "CachedMultipleNegativesRankingLoss"
    assert runs["cached"].summary["memory"]["chosen"]["mode"] == "gradcache"
    plain, cached = (np.array(runs[n].curve.points[-1]["per_query"]["test"]) for n in runs)
    assert runs["plain"].curve.points[-1]["health"]["effective_rank"] == pytest.approx(
        runs["cached"].curve.points[-1]["health"]["effective_rank"], rel=1e-4)
    assert np.allclose(plain, cached, atol=1e-6)


def test_rows_without_negatives_train_and_guard_sets_are_scored(tiny_model, tmp_path, retrieval_dir):
    rows = [{"query": f"what is item {i}", "pos": [f"item {i} is a thing number {i}"]} for i in range(12)]
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    run = finetune(str(tiny_model), train, tmp_path / "run", test=RERANKING, guard_retrieval=[retrieval_dir],
                   config=FinetuneConfig(max_steps=2, eval_every=1, **FAST))
    assert run.summary["examples"]["filled_negatives"] == 12 * 3
    assert "guard" in run.curve.points[0]["scores"] and "guard" in run.summary["guards"]
    assert run.summary["leakage"] == {"test": 0, "guard": 0}


def test_clear_errors_before_training(tiny_model, tmp_path):
    with pytest.raises(EmbedlabError, match="held-out data"):
        finetune(str(tiny_model), RERANKING, tmp_path / "a")
    with pytest.raises(UnknownNameError, match="did you mean 'test/v1.map'"):
        finetune(str(tiny_model), RERANKING, tmp_path / "b", test=RERANKING,
                 config=FinetuneConfig(metric="v1.mapp"))
    with pytest.raises(EmbedlabError, match="needs a CUDA GPU"):
        finetune(str(tiny_model), RERANKING, tmp_path / "c", test=RERANKING,
                 config=FinetuneConfig(precision="bf16", device="cpu"))


def test_early_stopping_ends_a_flat_curve(tiny_model, tmp_path):
    flat = FinetuneConfig(max_steps=20, eval_every=1, early_stopping=2, **{**FAST, "learning_rate": 0.0})
    run = finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=flat)
    assert run.summary["steps"] < 5 and len({round(run.curve.value(p), 12) for p in run.curve.points}) == 1
    assert run.summary["best_step"] == 0 and not run.summary["significant"]
    assert json.loads((run.best_dir / "embedlab-best.json").read_text()) == {"step": 0}


def test_curve_can_follow_a_retrieval_metric(tiny_model, tmp_path, retrieval_dir):
    run = finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, retrieval=retrieval_dir,
                   config=FinetuneConfig(max_steps=1, eval_every=1, metric="test-retrieval/recall@3", **FAST))
    assert run.curve.metric == "test-retrieval/recall@3" and run.summary["metric"] == run.curve.metric
    assert all("ndcg@10" in p["scores"]["test-retrieval"] for p in run.curve.points)
    assert len(run.curve.points[0]["per_query"]["test-retrieval"]) == 3  # judged queries only


def test_precision_is_bf16_or_fp16_on_cuda_and_fp32_on_cpu(monkeypatch):
    import torch

    from embedlab.finetune.train import _precision

    assert _precision("auto", "cpu") == "fp32"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert _precision("auto", "cuda") == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert _precision("auto", "cuda:1") == "fp16"
    assert _precision("fp16", "cuda") == "fp16"


def test_instructions_are_trained_with_and_saved_into_checkpoints(tiny_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    config = FinetuneConfig(max_steps=1, eval_every=1, query_instruction="query: ", **FAST)
    run = finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=config)
    saved = SentenceTransformer(str(tmp_path / "run" / "checkpoint-1"), device="cpu")
    assert saved.prompts.get("query") == "query: "
    # `embedlab eval` of the checkpoint uses the saved prompt: same number as the curve's step 1
    again = evaluate(str(tmp_path / "run" / "checkpoint-1"), RERANKING, model=ModelOptions(device="cpu"))
    assert again.runs[0].model["query_instruction"] == "query: "
    assert again.runs[0].tasks[0].scores["v1.map"] == pytest.approx(
        run.curve.points[-1]["scores"]["test"]["v1.map"], abs=1e-9)
