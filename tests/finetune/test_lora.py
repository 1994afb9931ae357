"""LoRA: the spec, the layers it adapts (a name matching none refused), the adapter added, merged, and proven."""

import re

import numpy as np
import pytest

from embedlab.errors import EmbedlabError, SetupError
from embedlab.finetune.lora import (
    LoraSpec,
    adapter_proof,
    adapter_weights,
    add_adapter,
    check_trained,
    merge_adapter,
    parse_lora,
    plain_copy,
    target_layers,
)
from embedlab.finetune.shape import ModelShape

pytest.importorskip("peft")


def test_the_spec_parses_with_defaults_and_refuses_what_it_cannot_use():
    assert parse_lora("") == parse_lora(None) == LoraSpec(16, 32.0, 0.05, "auto")
    assert parse_lora("r=8, alpha=16,dropout=0,targets=q_proj+v_proj") == LoraSpec(8, 16.0, 0.0, "q_proj+v_proj")
    for bad, says in (("r=x", "r must be a number"), ("rank=8", "is not one of"), ("r=0", "r must be 1 or more"),
                      ("dropout=1", "dropout in [0, 1)"), ("r", "is not one of")):
        with pytest.raises(EmbedlabError, match=re.escape(says)):
            parse_lora(bad)


def test_targets_auto_every_linear_layer_named_ones_or_an_error_naming_the_layers(tiny_model, tiny_decoder):
    from sentence_transformers import SentenceTransformer

    bert = ModelShape.of(SentenceTransformer(str(tiny_model), device="cpu"))
    assert target_layers(LoraSpec(), bert) == [lin.name for lin in bert.linears]
    assert target_layers(LoraSpec(targets="query+value"), bert) == ["attention.self.query", "attention.self.value"]
    assert target_layers(LoraSpec(targets="dense"), bert) == ["attention.output.dense", "intermediate.dense",
                                                              "output.dense"]
    qwen = ModelShape.of(SentenceTransformer(str(tiny_decoder), device="cpu"))
    with pytest.raises(SetupError, match=r"targets=query matches no linear layer.*q_proj, k_proj, v_proj, o_proj"):
        target_layers(LoraSpec(targets="q_proj+query"), qwen)


def test_an_adapter_freezes_the_base_merges_into_a_plain_model_and_is_proven(tiny_decoder):
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_decoder), device="cpu")
    initial = adapter_weights(add_adapter(model, LoraSpec(r=4), ModelShape.of(model)) and model)
    assert initial and all("lora_" in name for name in initial)
    assert {name for name, p in model.named_parameters() if p.requires_grad} == set(initial)
    with pytest.raises(EmbedlabError, match="left the adapter at its initial weights"):
        check_trained(initial, model)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    assert check_trained(initial, model) > 0
    texts = ["green tea at 80 degrees", "patch the inner tube", "a cactus needs little water"]
    base = SentenceTransformer(str(tiny_decoder), device="cpu")
    merged = SentenceTransformer(str(tiny_decoder), device="cpu")
    add_adapter(merged, LoraSpec(r=4), ModelShape.of(merged))
    merged.load_state_dict(model.state_dict())
    merge_adapter(merged)
    plain = plain_copy(merged, SentenceTransformer(str(tiny_decoder), device="cpu"))
    assert not any("lora_" in name for name, _ in plain.named_parameters())
    proof = adapter_proof(model, base, plain, texts)
    assert proof["merged_vs_adapter_max_abs"] <= 1e-5 < proof["adapter_vs_base_max_abs"]
    with pytest.raises(EmbedlabError, match="differs from the adapter model"):
        adapter_proof(model, base, base, texts)  # a merge that lost the adapter
    with pytest.raises(EmbedlabError, match="gives the base model's embeddings"):
        adapter_proof(base, base, base, texts)
    assert np.allclose(plain.encode(texts), model.encode(texts), atol=1e-5)
