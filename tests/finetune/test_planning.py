"""The plan printed before training and alone (`--plan`): sizes parsed, GradCache chosen only when needed, what fits."""

import pytest

from embedlab.errors import EmbedlabError
from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.lora import LoraSpec
from embedlab.finetune.memory import GIB, ModelShape
from embedlab.finetune.planning import Target, memory_plan, parse_memory, plan_only, plans

MINILM = ModelShape(parameters=22_713_216, hidden=384, layers=6, heads=12, dimension=384)


def test_sizes_in_gb_gib_and_bare_numbers():
    assert parse_memory("24GB") == 24 * 10 ** 9
    assert parse_memory("24GiB") == parse_memory("24g") == parse_memory("24") == 24 * GIB
    assert parse_memory("512MiB") == 512 * 1024 ** 2 and parse_memory(" 1.5 GiB ") == int(1.5 * GIB)
    for bad in ("", "lots", "-2GB", "0", "24TB"):
        with pytest.raises(EmbedlabError, match="give a size such as 24GB"):
            parse_memory(bad)


def test_gradcache_only_when_the_plain_loss_does_not_fit():
    roomy, tight = Target("cpu", 200 * GIB, 4), Target("cpu", 2 * GIB, 4)
    config = FinetuneConfig(batch_size=64)
    chosen, alternatives, mini = plans(MINILM, config, roomy, None, None)
    assert chosen.mode == "plain" and mini is None and set(alternatives) == {
        "plain", "gradcache", "plain_checkpointing", "gradcache_checkpointing"}
    chosen, _, mini = plans(MINILM, config, tight, None, None)
    assert chosen.mode == "gradcache" and chosen.fits and mini == chosen.mini_batch_size < 64
    _, _, never = plans(MINILM, FinetuneConfig(batch_size=64, mini_batch_size=None), tight, None, None)
    assert never is None


def test_the_plan_is_announced_with_what_fits_and_recorded(tiny_model):
    notes = []
    recorded = memory_plan(MINILM, FinetuneConfig(batch_size=256), Target("cpu", 8 * GIB, 4), notes.append)
    text = "\n".join(notes)
    assert text.startswith("memory plan (estimate): ") and "fits in 8.00 GiB: gradcache" in text
    assert not any(note.startswith("warning") for note in notes)
    assert recorded["chosen"]["loss"] == "CachedMultipleNegativesRankingLoss" and recorded["mini_batch_size"]
    nothing = []
    memory_plan(MINILM, FinetuneConfig(batch_size=256, mini_batch_size=None), Target("cpu", GIB // 4, 4),
                nothing.append)
    assert "none of these fits" in nothing[0] and nothing[1].startswith("warning: the estimate is above")
    assert "fits with --mini-batch-size" in nothing[0] or "no GradCache mini-batch" in nothing[0]
    hint = []
    memory_plan(MINILM, FinetuneConfig(batch_size=256, mini_batch_size=None), Target("cpu", 2 * GIB, 4), hint.append)
    assert "\n  fits with --mini-batch-size 32: ~1.59 GiB" in hint[0]  # the largest chunk that fits (64 does not)



def test_a_distillation_plan_offers_no_gradcache():
    """MarginMSE and KL have no cached variant: neither the alternatives nor the hint name one."""
    teacher = FinetuneConfig(batch_size=256, mini_batch_size=None, teacher="ce:r")
    chosen, alternatives, mini = plans(MINILM, teacher, Target("cpu", 200 * GIB, 4), None, None)
    assert mini is None and chosen.mode == "plain" and set(alternatives) == {"plain", "plain_checkpointing"}
    notes = []
    memory_plan(MINILM, teacher, Target("cpu", 30 * GIB, 4), notes.append)  # plain ~82 GiB, checkpointing ~27
    assert "gradcache" not in notes[0].lower() and "mini-batch" not in notes[0]
    assert "alternatives (GiB): plain " in notes[0] and "\n  fits with --gradient-checkpointing: ~" in notes[0]
    assert notes[1].startswith("warning: the estimate is above") and "--mini-batch-size" not in notes[1]
    tight = []
    memory_plan(MINILM, teacher, Target("cpu", 20 * GIB, 4), tight.append)
    assert tight[0].endswith("\n  gradient checkpointing does not make this batch fit")

def test_plan_only_reads_the_config_and_plans_lora_for_a_gpu(tiny_decoder):
    pytest.importorskip("peft")
    notes = []
    config = FinetuneConfig(batch_size=32, lora=LoraSpec(r=8), nproc=2)
    planned = plan_only(str(tiny_decoder), config, gpu_memory=24 * 10 ** 9, announce=notes.append)
    assert "2 decoder layers" in notes[0] and "22.35 GiB CUDA GPU (no GPU was used: an estimate)" in notes[0]
    assert "per process of 2" in notes[0] and "per process of 2" in notes[1]
    chosen = planned["chosen"]
    assert chosen["device"] == "cuda" and chosen["batch_size"] == 16 and chosen["adapter"].startswith("LoRA r=8")
    per_layer = (64 + 64) + 2 * (64 + 32) + (64 + 64) + 3 * (64 + 176)  # q, k and v (2 kv heads), o, gate, up, down
    assert chosen["trainable"] == 2 * 8 * per_layer
    assert "full_fine_tune" in planned and planned["full_fine_tune"]["trainable"] == chosen["parameters"]
