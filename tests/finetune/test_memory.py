import numpy as np
import pytest

from embedlab.finetune.memory import (
    ModelShape,
    PeakMemory,
    activation_bytes,
    choose_mini_batch,
    plan,
)

MINILM = ModelShape(parameters=22_713_216, hidden=384, layers=6, heads=12, dimension=384)


def test_gradcache_is_flat_in_batch_size_plain_is_linear():
    common = dict(group_size=8, query_length=32, passage_length=128)
    plain = [plan(MINILM, batch_size=b, **common).activations for b in (16, 64, 256)]
    cached = [plan(MINILM, batch_size=b, mini_batch_size=8, **common).total for b in (16, 64, 256)]
    assert plain[1] == pytest.approx(4 * plain[0]) and plain[2] == pytest.approx(16 * plain[0])
    assert cached[2] < 1.05 * cached[0]
    assert plan(MINILM, batch_size=64, mini_batch_size=8, **common).mode == "gradcache"
    assert plan(MINILM, batch_size=8, mini_batch_size=8, **common).mode == "plain"  # chunk >= batch
    with_ckpt = plan(MINILM, batch_size=64, checkpointing=True, **common)
    assert with_ckpt.activations < 0.4 * plan(MINILM, batch_size=64, **common).activations


def test_fits_and_mini_batch_choice():
    common = dict(batch_size=256, group_size=8, query_length=32, passage_length=128)
    small = plan(MINILM, available=2 * 1024 ** 3, **common)
    assert not small.fits and "does NOT fit" in small.describe()
    chosen = choose_mini_batch(lambda m: plan(MINILM, mini_batch_size=m, available=2 * 1024 ** 3,
                                              **common).fits, 256)
    assert chosen is not None and chosen < 256
    assert plan(MINILM, mini_batch_size=chosen, available=2 * 1024 ** 3, **common).fits
    assert not plan(MINILM, mini_batch_size=chosen * 2, available=2 * 1024 ** 3, **common).fits
    assert choose_mini_batch(lambda m: False, 64) is None


@pytest.mark.parametrize("count, tokens", [(8, 32), (4, 64)])
def test_activation_estimate_matches_tensors_saved_for_backward(tiny_model, count, tokens):
    """Oracle: the bytes autograd actually keeps for backward during a training-mode forward pass."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model), device="cpu")
    model.train()
    model.max_seq_length = tokens
    features = model.preprocess(["word " * 200] * count)
    assert features["input_ids"].shape == (count, tokens)
    saved: dict[tuple[int, int], int] = {}

    def keep(tensor):
        saved[tensor.data_ptr(), tensor.numel()] = tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda t: t):
        model(features)
    weights = {p.data_ptr() for p in model.parameters()}
    measured = sum(size for (pointer, _), size in saved.items() if pointer not in weights)
    estimate = count * activation_bytes(ModelShape.of(model), tokens)
    assert 0.8 < measured / estimate < 1.25


def test_peak_memory_sees_an_allocation():
    with PeakMemory("cpu", interval=0.005) as peak:
        block = np.ones(300 * 1024 ** 2 // 8)
        block += 1
        del block
    assert peak.peak - peak.start > 200 * 1024 ** 2
