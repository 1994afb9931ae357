"""End to end on a tiny random BERT: train, the curve, best/, resume, GradCache equivalence."""

import json

import numpy as np
import pytest

from embedlab import evaluate
from embedlab.demo import RERANKING
from embedlab.errors import EmbedlabError, UnknownNameError
from embedlab.finetune import FinetuneConfig, finetune
from embedlab.models import ModelOptions
from embedlab.run.options import RunOptions
from tests.conftest import write_jsonl

FAST = dict(batch_size=8, group_size=4, learning_rate=1e-3, warmup_ratio=0.0)


def test_training_learns_every_checkpoint_is_on_the_curve_and_best_is_kept(tiny_model, tmp_path):
    run = finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING,
                   config=FinetuneConfig(epochs=2, eval_every=2, keep_checkpoints=None,
                                         **{**FAST, "batch_size": 10}))
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
                       run=RunOptions(announce=notes.append))
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
                 config=FinetuneConfig(dtype="bf16", device="cpu"))


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


def test_dtype_is_bf16_or_fp16_on_cuda_and_fp32_on_cpu(monkeypatch):
    import torch

    from embedlab.finetune.train import _dtype

    assert _dtype("auto", "cpu") == "fp32"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert _dtype("auto", "cuda") == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert _dtype("auto", "cuda:1") == "fp16"
    assert _dtype("fp16", "cuda") == "fp16"


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


def test_resume_with_another_configuration_is_refused_and_allowed_settings_may_differ(tiny_model, tmp_path):
    config = FinetuneConfig(max_steps=2, eval_every=1, **FAST)
    finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=config)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "run").rglob("*")}
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["config"]["learning_rate"] == 1e-3 and set(record["data"]) == {"train", "test"}
    assert record["model"]["revision"].startswith("dir-sha256:")
    other_train = write_jsonl(tmp_path / "train.jsonl", [{"query": f"q{i}", "pos": [f"p{i}"]} for i in range(8)])
    other = FinetuneConfig(max_steps=2, eval_every=1, **{**FAST, "learning_rate": 2e-3})
    with pytest.raises(EmbedlabError, match=r"lr 0.001 -> 0.002; train data changed\).*--no-resume"):
        finetune(str(tiny_model), other_train, tmp_path / "run", test=RERANKING, config=other)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "run").rglob("*")} == before  # untouched
    # where and how fast it runs may change between a crash and its resume
    moved = FinetuneConfig(max_steps=2, eval_every=1, device="cpu", eval_batch_size=7, keep_checkpoints=None,
                           mini_batch_size=4, gradient_checkpointing=True, **FAST)
    assert finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=moved).already_complete
    again = finetune(str(tiny_model), other_train, tmp_path / "run", test=RERANKING, config=other, resume=False)
    assert not again.already_complete and json.loads((tmp_path / "run" / "run.json").read_text())[
        "config"]["learning_rate"] == 2e-3


def test_a_finished_run_is_complete_and_never_trained_past_its_last_step(tiny_model, tmp_path):
    config = FinetuneConfig(max_steps=5, eval_every=2, **FAST)
    first = finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=config)
    assert [p["step"] for p in first.curve.points] == [0, 2, 4, 5]
    notes = []
    again = finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=config,
                     run=RunOptions(announce=notes.append))
    assert again.already_complete and again.summary == first.summary
    assert notes == [f"{tmp_path / 'run'} holds this run, complete at checkpoint-5: nothing to train "
                     "(--no-resume trains it again)"]
    # killed after the last step, before the summary: finished without another step
    (tmp_path / "run" / "summary.json").unlink()
    done = finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=config)
    assert not done.already_complete and done.summary["steps"] == done.summary["last_step"] == 5
    assert done.summary["best"] == first.summary["best"]
    assert sorted(p.name for p in (tmp_path / "run").glob("checkpoint-*"))[-1] == "checkpoint-5"


def test_checkpoints_and_the_curve_keep_the_base_models_max_length(tiny_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    config = FinetuneConfig(max_steps=4, eval_every=2, passage_max_length=16, **FAST)
    run = finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=config)
    base = evaluate(str(tiny_model), RERANKING, model=ModelOptions(device="cpu"))
    assert run.summary["base"] == pytest.approx(base.runs[0].tasks[0].scores["v1.map"], abs=1e-9)
    assert run.summary["max_length"] == 64 and run.summary["train_max_length"] == {"query": 32, "passage": 16}
    assert run.summary["best_step"] > 0
    for folder in [run.best_dir, *(tmp_path / "run").glob("checkpoint-*")]:
        assert SentenceTransformer(str(folder), device="cpu").max_seq_length == 64
    again = evaluate(str(run.best_dir), RERANKING, model=ModelOptions(device="cpu"))
    assert again.runs[0].tasks[0].scores["v1.map"] == pytest.approx(run.summary["best"], abs=1e-9)
    # --max-length: saved and scored at that length; the base model at it too when nothing beats it
    flat = FinetuneConfig(max_steps=1, eval_every=1, passage_max_length=16, max_length=24,
                          **{**FAST, "learning_rate": 0.0})
    run = finetune(str(tiny_model), RERANKING, tmp_path / "short", test=RERANKING, config=flat)
    assert run.summary["best_step"] == 0 and run.summary["max_length"] == 24
    assert SentenceTransformer(str(run.best_dir), device="cpu").max_seq_length == 24
    short = evaluate(str(tiny_model), RERANKING, model=ModelOptions(device="cpu", max_length=24))
    assert run.summary["base"] == pytest.approx(short.runs[0].tasks[0].scores["v1.map"], abs=1e-9)


def test_only_the_best_and_the_last_checkpoints_stay_and_a_resume_still_works(tiny_model, tmp_path):
    from transformers import TrainerCallback

    class Crash(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 7:
                raise KeyboardInterrupt

    def kept(folder):
        return sorted(int(p.name.split("-")[1]) for p in folder.glob("checkpoint-*"))

    config = FinetuneConfig(max_steps=8, eval_every=1, **FAST)
    with pytest.raises(KeyboardInterrupt):
        finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=config,
                 callbacks=[Crash()])
    curve = json.loads((tmp_path / "run" / "curve.json").read_text())
    best = max(curve["points"], key=lambda p: (p["scores"]["test"]["v1.map"], -p["step"]))["step"]
    assert len(curve["points"]) == 7 and kept(tmp_path / "run") == sorted({best, 6} - {0})
    run = finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=config)
    assert [p["step"] for p in run.curve.points] == list(range(9))  # the curve keeps every point
    assert kept(tmp_path / "run") == sorted({run.summary["best_step"], 8} - {0})
    three = finetune(str(tiny_model), RERANKING, tmp_path / "three", test=RERANKING,
                     config=FinetuneConfig(max_steps=8, eval_every=1, keep_checkpoints=3, **FAST))
    assert kept(tmp_path / "three") == sorted({three.summary["best_step"], 6, 7, 8} - {0})


@pytest.mark.parametrize("case", ["bad data", "bad option", "model does not load", "output is an input"])
def test_a_run_failing_before_training_leaves_no_folder(tiny_model, tmp_path, case):
    out, model, train, config = tmp_path / "run", str(tiny_model), RERANKING, FinetuneConfig(max_steps=1, **FAST)
    if case == "bad data":
        train = write_jsonl(tmp_path / "train.jsonl", [{"query": "", "pos": ["p"]}])
    elif case == "bad option":
        config = FinetuneConfig(dtype="bf16", device="cpu")
    elif case == "model does not load":
        model = str(tmp_path / "no-such-model")
    else:
        out = tiny_model / "run"
    with pytest.raises(EmbedlabError):
        finetune(model, train, out, test=RERANKING, config=config)
    assert not out.exists()


def test_a_failure_after_the_checks_removes_only_a_folder_it_created(tiny_model, tmp_path, monkeypatch):
    import embedlab.finetune.job as train_module  # where the trainer is built

    def broken(*args, **kwargs):
        raise RuntimeError("trainer could not be built")

    monkeypatch.setattr(train_module, "build_trainer", broken)
    with pytest.raises(RuntimeError):
        finetune(str(tiny_model), RERANKING, tmp_path / "new", test=RERANKING, config=FinetuneConfig(**FAST))
    assert not (tmp_path / "new").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("the user's")
    with pytest.raises(RuntimeError):
        finetune(str(tiny_model), RERANKING, tmp_path / "mine", test=RERANKING, config=FinetuneConfig(**FAST))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "the user's"
