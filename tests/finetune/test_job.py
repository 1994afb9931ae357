"""A training process's job: the model loaded at the training length with the run's prompts (and its adapter), a
frozen LoRA base in the training dtype on a GPU only, the schedule's step counts."""

from pathlib import Path

import pytest

from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.examples import Examples
from embedlab.finetune.job import Job, _base_dtype, load_for_training
from embedlab.finetune.lora import LoraSpec
from embedlab.results.curve import Curve


def _job(model, **config) -> Job:
    examples = Examples({"anchor": ["q"] * 10, "positive": ["p"] * 10})
    return Job(str(model), Path("unused"), {}, Curve("test/v1.map"), FinetuneConfig(**config), examples, "cpu",
               "fp32", {"query": "query: "}, 64, None)


def test_the_model_trains_at_the_training_length_with_the_prompts_and_an_adapter(tiny_model):
    pytest.importorskip("peft")
    model, base_length = load_for_training(_job(tiny_model, passage_max_length=16), "cpu")
    assert base_length == 64 and model.max_seq_length == 16 and model.prompts["query"] == "query: "
    assert not any("lora_" in name for name, _ in model.named_parameters())
    adapted, _ = load_for_training(_job(tiny_model, lora=LoraSpec(r=2)), "cpu")
    assert {name for name, p in adapted.named_parameters() if p.requires_grad} == \
        {name for name, _ in adapted.named_parameters() if "lora_" in name}


def test_only_a_lora_base_on_a_gpu_loads_in_16_bit(tiny_model):
    import torch

    lora = _job(tiny_model, lora=LoraSpec())
    assert _base_dtype(lora, "cpu") is None and _base_dtype(_job(tiny_model), "cuda") is None
    lora.dtype = "bf16"
    assert _base_dtype(lora, "cuda:0") == {"dtype": torch.bfloat16}
    lora.dtype = "fp16"
    assert _base_dtype(lora, "cuda") == {"dtype": torch.float16}


def test_steps_per_epoch_and_total_steps(tiny_model):
    assert _job(tiny_model, batch_size=4, epochs=2.5).steps_per_epoch == 3
    assert _job(tiny_model, batch_size=4, epochs=2.5).total_steps == 8
    assert _job(tiny_model, batch_size=4, max_steps=5).total_steps == 5


def test_the_seed_sets_the_adapter_s_initial_weights(tiny_model):
    """--seed makes a LoRA run repeatable: the adapter's random initialisation is drawn from it."""
    pytest.importorskip("peft")
    import torch

    from embedlab.finetune.lora import adapter_weights

    def initial(seed: int, before: int) -> dict:
        torch.manual_seed(before)  # whatever the global generator held before must not matter
        return adapter_weights(load_for_training(_job(tiny_model, lora=LoraSpec(r=2), seed=seed), "cpu")[0])

    first, again, other = initial(0, before=1), initial(0, before=2), initial(1, before=1)
    assert all(torch.equal(first[name], again[name]) for name in first)
    assert any(not torch.equal(first[name], other[name]) for name in first)
