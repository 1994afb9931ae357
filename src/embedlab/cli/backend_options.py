"""`--backend` and `--quantize`: how a local model runs (to join the shared model options of cli/options.py)."""

from __future__ import annotations

import click

BACKEND_KEYS = ("backend", "quantize")  # ModelOptions fields these options fill

_OPTIONS = [
    click.option("--backend", type=click.Choice(["torch", "onnx", "openvino"]), default="torch", show_default=True,
                 help="Local models: run the transformer with PyTorch, ONNX Runtime (pip install 'embedlab[onnx]') "
                      "or OpenVINO ('embedlab[openvino]'); the export is made once and kept in "
                      "~/.cache/embedlab/exports ($EMBEDLAB_EXPORT_DIR)."),
    click.option("--quantize", type=click.Choice(["int8"]), default=None,
                 help="With --backend onnx|openvino: dynamic int8 (int8 weights, activations quantized at run "
                      "time; no calibration data). Measure its quality cost: evaluate beside --backend torch and "
                      "`embedlab compare`."),
]


def backend_options(command):
    """Add --backend and --quantize to a command."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def pop_backend_options(opts: dict) -> dict:
    """The ModelOptions fields of --backend / --quantize (consumed from opts); a quantization without an
    export is a usage error, before any model loads."""
    values = {key: opts.pop(key) for key in BACKEND_KEYS}
    if values["quantize"] and values["backend"] == "torch":
        raise click.UsageError("--quantize int8 needs --backend onnx or openvino (the export is what is quantized)")
    return values
