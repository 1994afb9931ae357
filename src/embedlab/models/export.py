"""A local model's transformer exported to ONNX or OpenVINO (optionally int8), once, into a cache folder.

The export is keyed by everything that changes its output: the model's content (a hash of the files of a
local directory, the commit of a hub snapshot), the backend, the exact quantization settings and the
versions of the libraries that export and run it. It is written into a temporary sibling folder and renamed
into place with its manifest, after a probe: the export must encode a few fixed texts as the torch model
does (finite, and close for float32), so a killed or failed export leaves nothing that looks complete.

Only the transformer (the first module of a sentence-transformers model) is exported; pooling,
normalisation and dense layers keep running in torch, as sentence-transformers' own ONNX backend does.
Quantization is dynamic (no calibration data): ONNX through onnxruntime's quantizer with the settings of
optimum's `avx512_vnni` configuration, OpenVINO through nncf's int8 weight compression, with the CPU
plugin quantizing activations at run time.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.errors import EmbedlabError, ModelError, require
from embedlab.models.runtime import OPENVINO_RUN, load_runtime

BACKENDS = ("torch", "onnx", "openvino")
QUANTIZATIONS = ("int8",)
FORMAT = 1  # of the export folder; a new one is another key
MANIFEST = "manifest.json"
# exact settings, recorded in the key and the provenance
ONNX_INT8 = {"method": "onnxruntime.quantize_dynamic", "weight_type": "QInt8", "activation_type": "QUInt8",
             "per_channel": True, "reduce_range": False, "weight_symmetric": True, "activation_symmetric": False,
             "op_types": ["MatMul"]}
OPENVINO_INT8 = {"method": "nncf.compress_weights", "mode": "INT8_ASYM", "activations": "CPU dynamic quantization"}
PROBE = ["how do I brew green tea", "Patch the inner tube of the tyre, then pump it to the pressure on its side.",
         "如何冲泡绿茶", "x", "A longer passage: " + "the cactus needs water every few weeks in summer, " * 6]
FLOAT32_TOLERANCE = 1e-3  # the probe's largest difference of token embeddings from torch's, in float32
_LIBRARIES = {"onnx": ("torch", "transformers", "onnx", "onnxscript", "onnxruntime"),
              "openvino": ("torch", "transformers", "openvino", "nncf")}
_EXTRA_MODULES = {"onnx": ("onnxruntime", "onnx", "onnxscript"), "openvino": ("openvino", "nncf")}


@dataclass(frozen=True)
class Variant:
    """How a local model runs: its backend and quantization (None: float32)."""

    backend: str = "torch"
    quantize: str | None = None

    @property
    def label(self) -> str:
        """`torch`, `onnx`, `onnx-int8`, `openvino-int8`: the name a sweep row and a report use."""
        return self.backend + (f"-{self.quantize}" if self.quantize else "")

    def settings(self) -> dict[str, Any]:
        """Everything besides the model that decides the export's output."""
        quantization = None
        if self.quantize:
            quantization = ONNX_INT8 if self.backend == "onnx" else OPENVINO_INT8
        return {"backend": self.backend, "quantize": self.quantize, "quantization": quantization,
                **({"run": OPENVINO_RUN} if self.backend == "openvino" else {})}


def parse_variant(backend: str | None, quantize: str | None) -> Variant:
    """The variant options name, or an EmbedlabError saying why not (before any model loads)."""
    backend = backend or "torch"
    if backend not in BACKENDS:
        raise EmbedlabError(f"unknown backend '{backend}' (known: {', '.join(BACKENDS)})")
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise EmbedlabError(f"unknown quantization '{quantize}' (known: {', '.join(QUANTIZATIONS)})")
    if quantize and backend == "torch":
        raise EmbedlabError("--quantize int8 needs --backend onnx or openvino (the export is what is quantized)")
    return Variant(backend, quantize)


def parse_label(label: str) -> Variant:
    """`onnx-int8` -> Variant("onnx", "int8"): the spelling of sweep rows."""
    backend, _, quantize = label.partition("-")
    return parse_variant(backend, quantize or None)


def backend_requires(backend: str) -> tuple[str, ...]:
    """The optional modules a backend needs (checked before any work, with the models' own)."""
    return tuple(_EXTRA_MODULES.get(backend, ()))


def require_backend(backend: str) -> None:
    """Import the backend's packages now, or raise the error naming the extra that installs them."""
    for module in _EXTRA_MODULES.get(backend, ()):
        require(module, f"--backend {backend}")


def exports_root() -> Path:
    """Where exports are kept: $EMBEDLAB_EXPORT_DIR, else `exports/` beside the default embedding cache."""
    from embedlab.paths import CACHE_HOME

    return Path(os.environ.get("EMBEDLAB_EXPORT_DIR") or CACHE_HOME / "exports")


def content_id(spec: str, revision: str | None) -> str:
    """The model's identity for the key: a hash of every file of a local directory (weights of the same
    size differ between checkpoints), else the hub snapshot's commit."""
    path = Path(spec).expanduser()
    if not path.is_dir():
        if revision is None:
            raise ModelError(f"cannot export '{spec}': its files are neither a local directory nor a cached hub "
                             "snapshot, so an export could not be told apart from a newer one")
        return f"hub:{revision}"
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{file.stat().st_size}\0".encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()


def library_versions(backend: str) -> dict[str, str]:
    versions = {}
    for package in _LIBRARIES.get(backend, ()):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "absent"
    return versions


def export_key(spec: str, identity: str, variant: Variant) -> dict[str, Any]:
    return {"format": FORMAT, "model": identity, **variant.settings(), "versions": library_versions(variant.backend)}


def export_folder(spec: str, key: dict[str, Any]) -> Path:
    """A readable, unique folder name: the model's last path part, the variant, a hash of the key."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(Path(spec).parts[-2:]))[-60:].strip("-.") or "model"
    label = Variant(key["backend"], key["quantize"]).label
    fingerprint = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return exports_root() / f"{slug}-{label}-{fingerprint}"


def read_manifest(folder: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest of a complete export made with this key, or None (absent, other key, files damaged)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        sizes_match = all((folder / name).stat().st_size == size for name, size in manifest["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return manifest if manifest.get("key") == key and sizes_match else None


def ensure_export(model, spec: str, revision: str | None, variant: Variant) -> tuple[Path, dict]:
    """(folder, manifest) of the export of `model` (a SentenceTransformer loaded from `spec`): the cached one,
    or a new one made now (atomically, after the probe). ModelError when the model cannot be exported."""
    from embedlab.data.output import atomic_folder

    require_backend(variant.backend)
    transformer = exportable_transformer(model, spec)
    key = export_key(spec, content_id(spec, revision), variant)
    folder = export_folder(spec, key)
    manifest = read_manifest(folder, key)
    if manifest is not None:
        return folder, manifest
    from rich.console import Console  # progress goes to stderr, as progress.py's

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"exporting {spec} to {variant.label} (once; kept in {folder.parent})")
    remove_abandoned(folder)
    with atomic_folder(folder) as partial:
        files = write_export(transformer, model.tokenizer, partial, variant)
        probe = probe_export(transformer, model.tokenizer, partial, files[0], variant, spec)
        manifest = {"key": key, "label": variant.label, "model_file": files[0], "probe": probe,
                    "inputs": input_names(transformer, model.tokenizer),
                    "files": {name: (partial / name).stat().st_size for name in files}}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return folder, manifest


def remove_abandoned(folder: Path) -> None:
    """Partial folders of this export left by killed processes (their pid is gone)."""
    import shutil

    for partial in folder.parent.glob(f".{folder.name}.partial-*"):
        pid = partial.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(partial, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exportable_transformer(model, spec: str):
    """The transformers model inside the first module of `model`, or a ModelError saying why it cannot be
    exported (custom modules, a task other than feature extraction)."""
    from transformers import PreTrainedModel

    first = model[0] if len(model) else None
    inner = getattr(first, "model", None)  # sentence-transformers' Transformer module holds the transformers model
    task = getattr(first, "transformer_task", "feature-extraction")
    if not isinstance(inner, PreTrainedModel) or task != "feature-extraction":
        what = type(first).__name__ if inner is None else f"{type(inner).__name__} ({task})"
        raise ModelError(f"cannot export '{spec}': its first module is {what}, not a transformers encoder "
                         "(custom code is exported by its own authors); run it with --backend torch")
    return inner


def input_names(transformer, tokenizer) -> list[str]:
    """The tokenizer's outputs the transformer takes, in the tokenizer's order."""
    import inspect

    accepted = set(inspect.signature(transformer.forward).parameters) & {"input_ids", "attention_mask", "token_type_ids"}
    return [name for name in tokenizer.model_input_names if name in accepted]


def write_export(transformer, tokenizer, folder: Path, variant: Variant) -> list[str]:
    """Export into `folder`; the files written, the model file first."""
    names = input_names(transformer, tokenizer)
    example = tokenizer(PROBE[:2], padding=True, return_tensors="pt")
    try:
        with contextlib.redirect_stdout(sys.stderr), quiet_exporters():  # stdout is for results
            if variant.backend == "onnx":
                return _write_onnx(transformer, names, example, folder, variant.quantize)
            return _write_openvino(transformer, names, example, folder, variant.quantize)
    except (ModelError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - any exporter failure is the model's: one line, nothing cached
        raise ModelError(f"cannot export '{transformer.name_or_path}' to {variant.label} (custom or untraceable "
                         f"code?): {root_cause(exc)}; run it with --backend torch") from None


@contextlib.contextmanager
def quiet_exporters():
    """No warnings or INFO lines from the exporters and quantizers while they run (the probe checks their
    work); their errors still raise."""
    import logging
    import warnings

    loggers = [logging.getLogger(name) for name in ("", "torch.onnx", "torch.export", "nncf", "onnxscript")]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)


def root_cause(exc: BaseException) -> str:
    """The first line of the innermost error (exporters wrap the tracer's), without terminal colours."""
    while exc.__cause__ is not None or (exc.__context__ is not None and not exc.__suppress_context__):
        exc = exc.__cause__ or exc.__context__
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


def positional(transformer, names: list[str]):
    """The transformer as a module called with its inputs by name (input_ids, attention_mask, token_type_ids:
    the inputs an encoder's tokenizer gives), returning the token embeddings."""
    import torch

    class Exported(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids, attention_mask=None, token_type_ids=None):
            given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
            return self.inner(**{n: given[n] for n in names}, return_dict=True).last_hidden_state

    return Exported().eval()


def _write_onnx(transformer, names, example, folder: Path, quantize: str | None) -> list[str]:
    import torch

    batch, length = torch.export.Dim("batch"), torch.export.Dim("sequence")
    fp32 = folder / "model.onnx"
    with torch.no_grad():
        torch.onnx.export(positional(transformer, names), (), str(fp32), kwargs={n: example[n] for n in names},
                          input_names=names, output_names=["token_embeddings"], opset_version=18, dynamo=True,
                          dynamic_shapes={n: {0: batch, 1: length} for n in names}, external_data=False,
                          verbose=False)
    if not quantize:
        return ["model.onnx"]
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(folder / "model_int8.onnx"), weight_type=QuantType.QInt8,
                     per_channel=ONNX_INT8["per_channel"], reduce_range=ONNX_INT8["reduce_range"],
                     op_types_to_quantize=ONNX_INT8["op_types"],
                     extra_options={"WeightSymmetric": True, "ActivationSymmetric": False, "DefaultTensorType": 1})
    fp32.unlink()  # only the quantized model is kept: it is what runs
    return ["model_int8.onnx"]


def _write_openvino(transformer, names, example, folder: Path, quantize: str | None) -> list[str]:
    import openvino as ov

    model = ov.convert_model(positional(transformer, names), example_input={n: example[n] for n in names})
    if quantize:
        import nncf

        model = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM)
    ov.save_model(model, str(folder / "model.xml"), compress_to_fp16=False)
    return ["model.xml", "model.bin"]


def probe_export(transformer, tokenizer, folder: Path, model_file: str, variant: Variant, spec: str) -> dict:
    """Encode the probe texts with the export and with torch; refuse an export that gives non-finite values
    (or, in float32, other values than torch): a ModelError, and the partial folder is discarded."""
    import numpy as np
    import torch

    names = input_names(transformer, tokenizer)
    features = tokenizer(PROBE, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = transformer(**{n: features[n] for n in names}, return_dict=True).last_hidden_state.numpy()
    runtime = load_runtime(folder / model_file, variant.backend, names, transformer.config)
    got = runtime(**{n: features[n] for n in names})["last_hidden_state"].numpy()
    mask = features["attention_mask"].numpy().astype(bool)
    if not np.isfinite(got[mask]).all():
        raise ModelError(f"the {variant.label} export of '{spec}' produces NaN or infinite values on plain "
                         f"text (nothing was cached); run it without --quantize or with --backend torch")
    difference = float(np.abs(got - expected)[mask].max())
    pooled = [((v * m[:, :, None]).sum(1) / m.sum(1, keepdims=True)) for v, m in
              ((got, mask), (expected, mask))]
    cosine = (pooled[0] * pooled[1]).sum(1) / (np.linalg.norm(pooled[0], axis=1) * np.linalg.norm(pooled[1], axis=1))
    if not variant.quantize and difference > FLOAT32_TOLERANCE:
        raise ModelError(f"the {variant.label} export of '{spec}' differs from torch by {difference:.2g} on plain "
                         "text (nothing was cached); run it with --backend torch")
    return {"texts": len(PROBE), "max_abs_difference": difference, "min_mean_pooled_cosine": float(cosine.min())}
