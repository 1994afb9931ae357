"""Exports of local models to ONNX / OpenVINO (float32 and int8): equal to torch, cached once under a key of
everything that changes them, written atomically, refused with one line when they cannot be made."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from embedlab.errors import EmbedlabError, MissingDependencyError, ModelError
from embedlab.models import ModelOptions, load_model
from embedlab.models import export as export_module
from embedlab.models.export import Variant, export_folder, export_key, parse_label, parse_variant

pytest.importorskip("sentence_transformers")
TEXTS = ["how do I brew green tea", "patch the inner tube of a bicycle tyre", "如何冲泡绿茶", "x",
         "a cactus needs water every few weeks in summer, less in winter " * 8]


@pytest.fixture
def exports(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "exports"
    monkeypatch.setenv("EMBEDLAB_EXPORT_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def shared_exports(tmp_path_factory):
    """One export folder for the tests of this module that only add exports (each takes seconds)."""
    folder = tmp_path_factory.mktemp("exports")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMBEDLAB_EXPORT_DIR", str(folder))
        yield folder


def complete_exports(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


def test_variants_parse_and_name_themselves():
    assert parse_variant(None, None) == Variant("torch") and Variant("onnx", "int8").label == "onnx-int8"
    assert parse_label("openvino-int8") == Variant("openvino", "int8") and parse_label("onnx") == Variant("onnx")
    with pytest.raises(EmbedlabError, match="needs --backend onnx or openvino"):
        parse_variant("torch", "int8")
    with pytest.raises(EmbedlabError, match="unknown backend 'tensorrt'"):
        parse_variant("tensorrt", None)
    with pytest.raises(EmbedlabError, match="unknown quantization 'int4'"):
        parse_label("onnx-int4")


def test_float32_onnx_equals_torch_on_the_bundled_minilm(shared_exports):
    from embedlab.demo import default_model

    torch_model = load_model(default_model())
    onnx_model = load_model(default_model(), ModelOptions(backend="onnx"))
    for kind in ("query", "document"):
        np.testing.assert_allclose(onnx_model.encode(TEXTS, kind), torch_model.encode(TEXTS, kind), atol=1e-4)
    assert onnx_model.name == f"{default_model()} (onnx)" and torch_model.name == default_model()
    assert onnx_model.cache_key("query").endswith(f"|runtime=onnx|export={onnx_model.export['id']}")
    assert "|runtime=" not in torch_model.cache_key("query")
    info = onnx_model.info()
    assert info["inference_backend"] == "onnx" and info["quantize"] is None and info["dtype"] == "float32"
    assert info["export"]["probe"]["max_abs_difference"] < 1e-4
    assert info["export"]["versions"]["onnxruntime"] == __import__("onnxruntime").__version__
    assert 80e6 < info["model_bytes"] < 100e6  # the float32 weights of MiniLM's transformer
    assert torch_model.info()["inference_backend"] == "torch" and "export" not in torch_model.info()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_int8_on_the_bundled_minilm_is_close_to_torch_and_smaller(shared_exports, backend):
    from embedlab.demo import default_model

    reference = load_model(default_model()).encode(TEXTS)
    model = load_model(default_model(), ModelOptions(backend=backend, quantize="int8"))
    vectors = model.encode(TEXTS)
    cosine = (vectors * reference).sum(1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(reference, axis=1)
    assert cosine.min() > 0.97 and not np.allclose(vectors, reference, atol=1e-4)  # close, and really quantized
    assert model.info()["model_bytes"] < 0.7 * load_model(default_model(), ModelOptions(backend=backend)
                                                           ).info()["model_bytes"]


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_tiny_model_float32_equals_torch_and_int8_is_a_different_cached_export(tiny_model_without_dropout,
                                                                               shared_exports, backend):
    spec = str(tiny_model_without_dropout)
    reference = load_model(spec).encode(TEXTS)
    fp32 = load_model(spec, ModelOptions(backend=backend))
    np.testing.assert_allclose(fp32.encode(TEXTS), reference, atol=1e-4)
    int8 = load_model(spec, ModelOptions(backend=backend, quantize="int8"))
    assert np.isfinite(int8.encode(TEXTS)).all()
    assert int8.export["quantization"]["method"] in ("onnxruntime.quantize_dynamic", "nncf.compress_weights")
    made = {p.name for p in complete_exports(shared_exports)}
    assert {Path(fp32.export["folder"]).name, Path(int8.export["folder"]).name} <= made
    assert fp32.export["id"] != int8.export["id"]
    assert int8.name.endswith(f"({backend}-int8)") and int8.cache_key("document") != fp32.cache_key("document")


def test_an_export_is_made_once_then_read_from_the_cache(tiny_model_without_dropout, shared_exports, monkeypatch):
    spec = str(tiny_model_without_dropout)
    first = load_model(spec, ModelOptions(backend="onnx"))
    manifest = json.loads((Path(first.export["folder"]) / "manifest.json").read_text())
    assert manifest["key"]["model"].startswith("sha256:") and manifest["label"] == "onnx"

    def no_second_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(export_module, "write_export", no_second_export)
    again = load_model(spec, ModelOptions(backend="onnx"))
    assert again.export == first.export
    np.testing.assert_array_equal(again.encode(TEXTS), first.encode(TEXTS))


def test_the_key_holds_the_model_content_backend_quantization_and_library_versions(tiny_model, tmp_path):
    from embedlab.models.export import content_id

    identity = content_id(str(tiny_model), None)
    base = export_key(str(tiny_model), identity, Variant("onnx"))
    folders = {export_folder(str(tiny_model), base)}
    folders.add(export_folder(str(tiny_model), export_key(str(tiny_model), identity, Variant("onnx", "int8"))))
    folders.add(export_folder(str(tiny_model), export_key(str(tiny_model), identity, Variant("openvino"))))
    folders.add(export_folder(str(tiny_model), {**base, "versions": {**base["versions"], "onnxruntime": "0.0"}}))
    assert len(folders) == 4
    copy = tmp_path / "copy"
    copy.mkdir()
    for file in Path(tiny_model).iterdir():
        if file.is_file():
            (copy / file.name).write_bytes(file.read_bytes())
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one bit of a weight: same size, another model
    weights.write_bytes(bytes(data))
    assert content_id(str(copy), None) != identity
    with pytest.raises(ModelError, match="neither a local directory nor a cached hub snapshot"):
        content_id("org/not-cached", None)


def test_a_damaged_export_is_made_again(tiny_model_without_dropout, exports):
    spec = str(tiny_model_without_dropout)
    first = load_model(spec, ModelOptions(backend="onnx"))
    model_file = Path(first.export["folder"]) / "model.onnx"
    model_file.write_bytes(model_file.read_bytes()[:100])  # a truncated file
    again = load_model(spec, ModelOptions(backend="onnx"))
    np.testing.assert_allclose(again.encode(TEXTS), load_model(spec).encode(TEXTS), atol=1e-4)


def test_a_failed_or_killed_export_leaves_nothing_that_looks_complete(tiny_model_without_dropout, exports,
                                                                      monkeypatch):
    spec = str(tiny_model_without_dropout)
    real = export_module.write_export

    def killed(transformer, tokenizer, folder, variant):
        real(transformer, tokenizer, folder, variant)  # the files are written, the manifest is not
        raise KeyboardInterrupt

    monkeypatch.setattr(export_module, "write_export", killed)
    with pytest.raises(KeyboardInterrupt):
        load_model(spec, ModelOptions(backend="onnx"))
    assert complete_exports(exports) == [] and not list(exports.glob(".*"))
    monkeypatch.setattr(export_module, "write_export", real)
    model = load_model(spec, ModelOptions(backend="onnx"))
    folder = Path(model.export["folder"])
    abandoned = folder.with_name(f".{folder.name}.partial-999999999")  # left by a process that died
    abandoned.mkdir()
    (folder / "manifest.json").unlink()  # forces a new export, which clears the dead partial
    load_model(spec, ModelOptions(backend="onnx"))
    assert not abandoned.exists() and len(complete_exports(exports)) == 1


def test_a_model_whose_first_module_is_not_a_transformer_cannot_be_exported(tmp_path, exports):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0, "tea": 1, "water": 2}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    static = StaticEmbedding(tokenizer, embedding_weights=np.eye(3, 4, dtype=np.float32))
    SentenceTransformer(modules=[static]).save(str(tmp_path / "bag"))
    with pytest.raises(ModelError, match=r"cannot export .*first module is StaticEmbedding, not a transformers "
                                         r"encoder .*--backend torch"):
        load_model(str(tmp_path / "bag"), ModelOptions(backend="onnx"))
    assert complete_exports(exports) == []


def test_untraceable_code_is_one_line_and_nothing_is_cached(tiny_model_without_dropout, exports, monkeypatch):
    import functools

    from transformers.models.bert.modeling_bert import BertModel

    original = BertModel.forward

    @functools.wraps(original)
    def custom_forward(self, *args, **kwargs):  # data-dependent Python: what custom modelling code often does
        output = original(self, *args, **kwargs)
        if float(output.last_hidden_state.abs().max()) > 0:
            output.last_hidden_state = output.last_hidden_state * 2
        return output

    monkeypatch.setattr(BertModel, "forward", custom_forward)
    with pytest.raises(ModelError) as caught:
        load_model(str(tiny_model_without_dropout), ModelOptions(backend="onnx"))
    assert "cannot export" in str(caught.value) and "--backend torch" in str(caught.value)
    assert "data-dependent" in str(caught.value).lower() and "\n" not in str(caught.value)
    assert complete_exports(exports) == [] and not list(exports.glob(".*"))


def test_a_quantized_export_that_produces_nan_is_refused_and_not_cached(tiny_model_without_dropout, tmp_path,
                                                                         exports):
    """Two features the first LayerNorm zeroes meet weights of +-3e38 in the first query projection: float32
    multiplies them by exactly 0, but per-channel asymmetric int8 spans a range of 6e38 (infinite in float32)."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model_without_dropout), device="cpu")
    bert = model[0].model
    with torch.no_grad():
        bert.embeddings.LayerNorm.weight[:2] = 0
        bert.embeddings.LayerNorm.bias[:2] = 0
        query = bert.encoder.layer[0].attention.self.query.weight
        query[:, 0], query[:, 1] = 3e38, -3e38
    model.save(str(tmp_path / "fragile"))
    spec = str(tmp_path / "fragile")
    assert np.isfinite(load_model(spec).encode(TEXTS)).all()
    assert np.isfinite(load_model(spec, ModelOptions(backend="openvino")).encode(TEXTS)).all()
    with pytest.raises(ModelError, match=r"openvino-int8 export of .* produces NaN or infinite values .*nothing "
                                         r"was cached"):
        load_model(spec, ModelOptions(backend="openvino", quantize="int8"))
    assert [p.name.split("-")[-2] for p in complete_exports(exports)] == ["openvino"]
    assert not list(exports.glob(".*"))


def test_a_missing_backend_package_names_the_extra_before_the_model_loads(monkeypatch, tiny_model):
    import builtins

    real_import = builtins.__import__

    def without_openvino(name, *args, **kwargs):
        if name == "openvino" or name.startswith("openvino."):
            raise ImportError("No module named 'openvino'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_openvino)
    monkeypatch.delitem(__import__("sys").modules, "openvino", raising=False)
    with pytest.raises(MissingDependencyError, match=r"--backend openvino needs 'openvino'.*pip install "
                                                     r"'embedlab\[openvino\]'"):
        load_model(str(tiny_model), ModelOptions(backend="openvino"))


def test_exports_run_on_the_cpu_only(tiny_model, exports):
    with pytest.raises(ModelError, match="runs on the CPU"):
        load_model(str(tiny_model), ModelOptions(backend="onnx", device="cuda"))
    assert not exports.exists() or complete_exports(exports) == []


def test_exports_live_beside_the_embedding_cache_by_default(monkeypatch):
    from embedlab.embedding.cache import DEFAULT_PATH

    monkeypatch.delenv("EMBEDLAB_EXPORT_DIR", raising=False)
    assert export_module.exports_root() == DEFAULT_PATH.parent / "exports"
    monkeypatch.setenv("EMBEDLAB_EXPORT_DIR", os.devnull + "-elsewhere")
    assert export_module.exports_root() == Path(os.devnull + "-elsewhere")
