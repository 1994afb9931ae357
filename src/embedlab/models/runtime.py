"""An exported transformer (ONNX Runtime or OpenVINO) in the place of the torch one inside a
sentence-transformers model: tokenization, prompts, pooling, normalisation and dense layers stay
sentence-transformers' own, only the transformer's forward pass runs on the exported graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# OpenVINO's CPU plugin computes in bf16 by default on CPUs with AMX: never behind the user's back
OPENVINO_RUN = {"INFERENCE_PRECISION_HINT": "f32"}


def load_runtime(model_file: Path, backend: str, names: list[str], config: Any):
    """A torch module that runs the exported transformer: `module(input_ids=..., ...)` ->
    {"last_hidden_state": tensor}, as a transformers model answers sentence-transformers."""
    import torch

    run = _onnx_runner(model_file) if backend == "onnx" else _openvino_runner(model_file)

    class ExportedTransformer(torch.nn.Module):
        """Holds no weights: `config` is the original's (sentence-transformers reads it)."""

        def __init__(self) -> None:
            super().__init__()
            self.config = config
            self.backend = backend

        def forward(self, **features):
            feed = {name: np.ascontiguousarray(features[name].cpu().numpy(), dtype=np.int64) for name in names}
            return {"last_hidden_state": torch.from_numpy(run(feed))}

    return ExportedTransformer()


def _onnx_runner(model_file: Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # the export is checked by its probe: no warnings on every load
    session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
    return lambda feed: session.run(None, feed)[0]


def _openvino_runner(model_file: Path):
    import openvino

    compiled = openvino.Core().compile_model(str(model_file), "CPU", dict(OPENVINO_RUN))
    request = compiled.create_infer_request()
    return lambda feed: np.array(request.infer(feed)[0], dtype=np.float32)


def swap_in(model, runtime) -> None:
    """Put `runtime` where the first module of `model` (a SentenceTransformer) keeps its transformers model;
    the torch weights are released."""
    first = model[0]
    first.model = runtime
    first.unpad_inputs = False  # flattened inputs are a torch + flash-attention path
