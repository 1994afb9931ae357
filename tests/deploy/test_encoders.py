"""Encoder variants of a sweep (`--backend`): parsed and checked before any work; each a row scored from its own
vectors against the float32 torch baseline, with its speed; fp32 ONNX scores as torch does; a static row is a
model2vec distilled from the swept model."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab import demo
from embedlab.deploy import DeployOptions, deploy_sweep
from embedlab.deploy.encoders import check_sweepable, encoder_requires, parse_encoders
from embedlab.errors import EmbedlabError, UnknownNameError
from embedlab.results.deploy import deploy_summaries
from embedlab.run.options import RunOptions
from tests.conftest import FakeEncoder

TASKS = [demo.RERANKING, demo.RETRIEVAL]


def test_parsing_and_what_each_encoder_needs():
    assert parse_encoders("torch, ONNX-int8,static,onnx-int8") == ("torch", "onnx-int8", "static")
    with pytest.raises(UnknownNameError, match="unknown backend 'onnx-int4'; did you mean 'onnx-int8'"):
        parse_encoders("torch,onnx-int4")
    with pytest.raises(EmbedlabError, match="give one or more of torch, onnx"):
        parse_encoders(" , ")
    assert encoder_requires(["torch"]) == []
    assert ("model2vec", "--backend static") in encoder_requires(["static"])
    assert ("onnxruntime", "--backend onnx-int8") in encoder_requires(["onnx-int8"])
    assert ("openvino", "--backend openvino-int8") in encoder_requires(["openvino-int8"])


@pytest.mark.parametrize("spec", ["bm25", "openai:text-embedding-3-small", "hybrid:bm25+m", FakeEncoder()])
def test_only_a_local_sentence_transformers_model_is_swept_over_backends(spec):
    check_sweepable(spec, ("torch",))  # torch alone re-encodes nothing: any model
    with pytest.raises(EmbedlabError, match=r"^--backend onnx,static: only a local sentence-transformers model"):
        check_sweepable(spec, ("torch", "onnx", "static"))
    if not isinstance(spec, str):
        with pytest.raises(EmbedlabError, match="only a local sentence-transformers model"):  # before any encoding
            deploy_sweep(spec, TASKS, deploy=DeployOptions(encoders=("onnx",)))
        assert spec.texts_encoded == []


@pytest.fixture
def exports(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_EXPORT_DIR", str(tmp_path / "exports"))
    return tmp_path / "exports"


def test_an_onnx_row_scores_as_torch_does_with_its_speed_and_its_delta(tiny_model, exports):
    pytest.importorskip("onnxruntime")
    results = deploy_sweep(str(tiny_model), TASKS, run=RunOptions(sample=12),
                           deploy=DeployOptions(precisions=("float32",), encoders=("torch", "onnx")))
    torch_run, onnx_run = results.runs
    assert torch_run.model["deploy"]["baseline"] and torch_run.model["deploy"]["encoder"] == "torch"
    assert onnx_run.model["name"].endswith(" @32 float32 exact backend:onnx")
    assert onnx_run.model["deploy"]["encoder"] == "onnx" and not onnx_run.model["deploy"]["baseline"]
    assert onnx_run.model["inference_backend"] == "onnx" and onnx_run.model["model_bytes"] > 0
    for ours, theirs in zip(onnx_run.tasks, torch_run.tasks):
        for metric, values in theirs.per_query.items():
            np.testing.assert_allclose(ours.per_query[metric], values, atol=1e-4, err_msg=metric)
        for result in (ours, theirs):
            assert result.timings["encode_texts_per_second"] > 0 and result.timings["encode_ms_per_query"] > 0
            assert result.counts["speed_texts"] > 0 and result.counts["speed_queries"] > 0
    for summary in deploy_summaries(results, resamples=500):
        base, onnx = summary.rows
        assert base.delta is None and onnx.delta is not None and onnx.tied and onnx.p_holm is not None
        assert abs(onnx.delta.mean) < 1e-4 and onnx.encode_ms > 0 and onnx.texts_per_second > 0
    assert ["-onnx-" in p.name for p in exports.iterdir()] == [True]  # the export, kept


def test_a_static_row_is_distilled_from_the_swept_model_once(tmp_path, exports):
    pytest.importorskip("model2vec")
    from tests.models.test_static import tiny_bert

    source = tiny_bert(tmp_path)
    deploy = DeployOptions(precisions=("float32", "int8"), encoders=("static",))  # torch: the baseline all the same
    results = deploy_sweep(str(source), TASKS, deploy=deploy)
    names = [run.model["name"] for run in results.runs]
    assert names == [f"{source} @16 float32 exact", f"{source} @16 int8 exact",
                     f"{source} @16 float32 exact backend:static"]
    static = results.runs[2]
    assert static.model["backend"] == "model2vec" and static.model["model_bytes"] > 0
    assert all(t.timings["encode_texts_per_second"] > 0 and t.timings["encode_ms_per_query"] > 0 for t in static.tasks)
    assert "encode_ms_per_query" not in results.runs[1].tasks[0].timings  # a vector variant: torch's encoder
    made = sorted(exports.iterdir())
    assert len(made) == 1 and "-static-" in made[0].name
    again = deploy_sweep(str(source), TASKS, deploy=deploy)  # distilled once: the cached model is read
    assert sorted(exports.iterdir()) == made
    assert again.runs[2].tasks[0].per_query == static.tasks[0].per_query
