"""--backend / --quantize as a command declares them (the lead joins them to the shared model options)."""

from __future__ import annotations

import click
from click.testing import CliRunner

from embedlab.cli.backend_options import BACKEND_KEYS, backend_options, pop_backend_options
from embedlab.models import ModelOptions


@click.command()
@backend_options
def show(**opts):
    click.echo(repr(ModelOptions(**pop_backend_options(opts))))


def test_the_options_fill_model_options_and_refuse_int8_without_an_export():
    assert "backend='torch', quantize=None" in CliRunner().invoke(show, []).output
    shown = CliRunner().invoke(show, ["--backend", "onnx", "--quantize", "int8"]).output
    assert "backend='onnx', quantize='int8'" in shown
    refused = CliRunner().invoke(show, ["--quantize", "int8"])
    assert refused.exit_code == 2 and "--quantize int8 needs --backend onnx or openvino" in refused.output
    wrong = CliRunner().invoke(show, ["--backend", "tensorrt"])
    assert wrong.exit_code == 2 and "'tensorrt' is not one of 'torch', 'onnx', 'openvino'" in wrong.output
    assert set(BACKEND_KEYS) <= set(ModelOptions().as_dict())
    assert "embedlab[onnx]" in CliRunner().invoke(show, ["--help"]).output
