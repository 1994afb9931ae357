"""A LoRA run end to end on the tiny BERT and the tiny Qwen-style decoder: checkpoints hold the adapter, best/ is the
merged model (a plain one) and evaluates to the curve's best, adapter/ with --keep-adapter, the proof recorded;
an adapter that learned nothing is a loud error and writes no best/."""

import json

import pytest

from embedlab import evaluate
from embedlab.demo import RERANKING
from embedlab.errors import EmbedlabError
from embedlab.finetune import FinetuneConfig, finetune
from embedlab.finetune.lora import LoraSpec
from embedlab.models import ModelOptions

pytest.importorskip("peft")
FAST = dict(batch_size=8, group_size=4, warmup_ratio=0.0, max_steps=4, eval_every=2, keep_checkpoints=None)


def _score(path) -> float:
    return evaluate(str(path), RERANKING, model=ModelOptions(device="cpu")).runs[0].tasks[0].scores["v1.map"]


@pytest.mark.parametrize("model, lr", [("tiny_model", 2e-2), ("tiny_decoder", 1e-3)])
def test_checkpoints_hold_the_adapter_and_best_is_the_merged_model(model, lr, request, tmp_path):
    config = FinetuneConfig(learning_rate=lr, lora=LoraSpec(r=4), keep_adapter=True, **FAST)
    run = finetune(str(request.getfixturevalue(model)), RERANKING, tmp_path / "run", test=RERANKING, config=config)
    lora = run.summary["lora"]
    assert run.summary["best_step"] > 0, "the adapter should beat the base model on its own training rows"
    for checkpoint in (tmp_path / "run").glob("checkpoint-*"):
        assert (checkpoint / "adapter_model.safetensors").exists() and not (checkpoint / "model.safetensors").exists()
        step = int(checkpoint.name.split("-")[1])
        point = next(p for p in run.curve.points if p["step"] == step)
        assert _score(checkpoint) == pytest.approx(point["scores"]["test"]["v1.map"], abs=1e-9)  # it reloads
    assert (run.best_dir / "model.safetensors").exists() and not (run.best_dir / "adapter_config.json").exists()
    assert _score(run.best_dir) == pytest.approx(run.summary["best"], abs=1e-9)
    assert _score(tmp_path / "run" / "adapter") == pytest.approx(run.summary["best"], abs=1e-9)
    assert lora["proof"]["merged_vs_adapter_max_abs"] <= 1e-5 < lora["proof"]["adapter_vs_base_max_abs"]
    assert lora["adapter_moved"] > 0 and lora["trainable_parameters"] < lora["parameters"] / 10
    assert json.loads((run.best_dir / "embedlab-best.json").read_text())["merged_adapter_of"] == \
        f"checkpoint-{run.summary['best_step']}"
    assert run.summary["memory"]["chosen"]["adapter"].startswith("LoRA r=4")


def test_the_decoder_pools_its_last_token(tiny_decoder):
    """The path LLM-based embedders take: last-token pooling over right-padded batches."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_decoder), device="cpu")
    assert model[1].pooling_mode == "lasttoken"
    texts = ["short", "a much longer text with many more words in it"]
    features = model.preprocess(texts)
    with torch.no_grad():
        tokens = model[0](dict(features))["token_embeddings"]
    last = [tokens[i, int(features["attention_mask"][i].sum()) - 1].numpy() for i in range(2)]
    expected = np.stack([v / np.linalg.norm(v) for v in last])
    assert np.allclose(model.encode(texts), expected, atol=1e-6)


def test_an_adapter_that_learned_nothing_is_a_loud_error_and_writes_no_best(tiny_model, tmp_path):
    config = FinetuneConfig(learning_rate=0.0, lora=LoraSpec(r=4), **FAST)
    with pytest.raises(EmbedlabError, match="left the adapter at its initial weights"):
        finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=config)
    assert not (tmp_path / "run" / "best").exists()


def test_keep_adapter_needs_lora_and_the_lora_settings_are_part_of_the_run(tiny_model, tmp_path):
    with pytest.raises(EmbedlabError, match="--keep-adapter needs --lora"):
        finetune(str(tiny_model), RERANKING, tmp_path / "a", test=RERANKING, config=FinetuneConfig(keep_adapter=True))
    first = FinetuneConfig(learning_rate=1e-2, lora=LoraSpec(r=4), **{**FAST, "max_steps": 2})
    finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=first)
    other = FinetuneConfig(learning_rate=1e-2, lora=LoraSpec(r=8), **{**FAST, "max_steps": 2})
    with pytest.raises(EmbedlabError, match=r"lora \{'r': 4.*-> \{'r': 8.*--no-resume"):
        finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=other)
