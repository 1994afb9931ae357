import json

from embedlab.finetune import FinetuneConfig


def test_defaults_follow_the_bge_recipe_and_as_dict_round_trips():
    config = FinetuneConfig()
    assert (config.temperature, config.group_size, config.learning_rate) == (0.02, 8, 1e-5)
    assert config.mini_batch_size == "auto" and config.max_steps is None and config.dtype == "auto"
    changed = FinetuneConfig(max_steps=10, metric="test/v1.map", query_instruction="查询：")
    assert FinetuneConfig(**json.loads(json.dumps(changed.as_dict()))) == changed  # summary.json keeps it all
