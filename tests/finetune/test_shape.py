"""ModelShape: what the planner reads of a model, from a loaded one or from its config on the meta device."""

import json

import pytest

from embedlab.finetune.shape import Linear, ModelShape


@pytest.fixture(scope="module")
def st():
    return pytest.importorskip("sentence_transformers")


def test_an_encoder_and_a_decoder_are_told_apart_by_their_layers(st, tiny_model, tiny_decoder):
    bert = ModelShape.of(st.SentenceTransformer(str(tiny_model), device="cpu"))
    assert (bert.family, bert.hidden, bert.layers, bert.heads, bert.mlp_width) == ("encoder", 32, 2, 2, 64)
    assert bert.dropout == pytest.approx(0.1) and not bert.qk_norm
    assert [lin.name for lin in bert.linears] == ["attention.self.query", "attention.self.key", "attention.self.value",
                                                   "attention.output.dense", "intermediate.dense", "output.dense"]
    assert bert.layer_prefixes == ("encoder.layer.0.", "encoder.layer.1.")
    qwen = ModelShape.of(st.SentenceTransformer(str(tiny_decoder), device="cpu"))
    assert (qwen.family, qwen.kv_heads, qwen.dropout, qwen.dimension) == ("decoder", 2, 0.0, 64)
    assert [lin.leaf for lin in qwen.linears] == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                                  "down_proj"]
    assert {lin.group for lin in qwen.linears} == {"qkv", "self_attn.o_proj", "gate_up", "mlp.down_proj"}
    assert qwen.layer_prefixes == ("layers.0.", "layers.1.")


def test_the_config_alone_gives_the_loaded_models_shape(st, tiny_decoder, tmp_path):
    loaded = ModelShape.of(st.SentenceTransformer(str(tiny_decoder), device="cpu"))
    assert ModelShape.from_config(str(tiny_decoder)) == loaded  # no weights read: the meta device
    assert ModelShape.from_config(str(tiny_decoder)).linears == loaded.linears


def test_qwen3_queries_and_keys_are_normalised(st, tmp_path):
    from tests.conftest import make_tiny_decoder

    shape = ModelShape.of(st.SentenceTransformer(str(make_tiny_decoder(tmp_path, qwen3=True)), device="cpu"))
    assert shape.qk_norm and shape.head_dim == 16


def test_a_dense_module_sets_the_planned_embedding_width(tmp_path, tiny_decoder):
    import shutil

    folder = tmp_path / "with-dense"
    shutil.copytree(tiny_decoder, folder)
    modules = json.loads((folder / "modules.json").read_text())
    modules.append({"idx": len(modules), "name": "3", "path": "3_Dense",
                    "type": "sentence_transformers.base.modules.Dense"})
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "3_Dense").mkdir()
    (folder / "3_Dense" / "config.json").write_text(json.dumps({"in_features": 64, "out_features": 24}))
    assert ModelShape.from_config(str(folder)).dimension == 24


def test_linear_groups_share_one_saved_input():
    assert Linear("attention.self.query", 8, 8).group == Linear("attention.self.value", 8, 8).group == "qkv"
    assert Linear("mlp.gate_proj", 8, 16).group == Linear("mlp.up_proj", 8, 16).group == "gate_up"
    assert Linear("output.dense", 16, 8).group == "output.dense"
