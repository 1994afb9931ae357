"""The real bundled model (MiniLM) end to end: split, fine-tune, best/ loads everywhere."""

import pytest

from embedlab import evaluate
from embedlab.data.split import split_rows
from embedlab.demo import RERANKING, RETRIEVAL, default_model
from embedlab.finetune import FinetuneConfig, finetune
from embedlab.models import ModelOptions

pytestmark = pytest.mark.slow


def test_minilm_split_finetune_and_best_checkpoint(tmp_path):
    from sentence_transformers import SentenceTransformer

    split_rows(RERANKING, tmp_path / "split", test=0.3, seed=0)
    run = finetune(default_model(), tmp_path / "split" / "train.jsonl", tmp_path / "run",
                   test=tmp_path / "split" / "test.jsonl", retrieval=RETRIEVAL,
                   config=FinetuneConfig(epochs=2, batch_size=8, eval_every=2, learning_rate=5e-5))
    points = run.curve.points
    assert points[0]["step"] == 0 and len(points) >= 3
    assert {"test", "test-retrieval"} <= set(points[-1]["scores"])
    assert run.summary["leakage"] == {"test": 0, "test-retrieval": 0} or run.summary["leakage"]["test"] == 0
    best = SentenceTransformer(str(run.best_dir), device="cpu")
    # trained at 128 tokens, saved at the base model's 256: long documents are not cut in deployment
    assert run.summary["train_max_length"]["passage"] == 128 and run.summary["max_length"] == 256
    assert best.max_seq_length == 256 and best.encode(["你好"]).shape == (1, 384)
    base = evaluate(default_model(), tmp_path / "split" / "test.jsonl", model=ModelOptions(device="cpu"))
    assert base.runs[0].tasks[0].scores["v1.map"] == pytest.approx(run.summary["base"], abs=1e-9)
    again = evaluate(str(run.best_dir), tmp_path / "split" / "test.jsonl", model=ModelOptions(device="cpu"))
    assert again.runs[0].tasks[0].scores["v1.map"] == pytest.approx(run.summary["best"], abs=1e-9)
    memory = run.summary["memory"]
    assert memory["measured_peak_bytes"] > memory["measured_start_bytes"] > 0
