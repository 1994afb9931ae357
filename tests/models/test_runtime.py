"""An exported transformer swapped into a sentence-transformers model: the rest of the pipeline unchanged."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")


def test_the_swapped_in_runtime_gives_the_torch_pipeline_its_vectors(tiny_model_without_dropout, tmp_path):
    from sentence_transformers import SentenceTransformer

    from embedlab.models.export import Variant, input_names, write_export
    from embedlab.models.runtime import load_runtime, swap_in

    model = SentenceTransformer(str(tiny_model_without_dropout), device="cpu")
    texts = ["green tea", "a bicycle tyre with a hole in it", "x"]
    expected = model.encode(texts, convert_to_numpy=True)
    transformer = model[0].model
    files = write_export(transformer, model.tokenizer, tmp_path, Variant("onnx"))
    runtime = load_runtime(tmp_path / files[0], "onnx", input_names(transformer, model.tokenizer), transformer.config)
    swap_in(model, runtime)
    assert model[0].model is runtime and not list(runtime.parameters())  # the torch weights are released
    np.testing.assert_allclose(model.encode(texts, convert_to_numpy=True), expected, atol=1e-5)
