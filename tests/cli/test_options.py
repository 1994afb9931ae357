"""Options shared by the commands that embed: one spelling, one ModelOptions, sections in --help."""

from __future__ import annotations

import sys

import click
import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.cli.options import (
    MODEL_SETTINGS,
    options,
    pop_engine_options,
    pop_model_options,
    quiet_libraries,
)
from embedlab.errors import MissingDependencyError


def test_model_options_become_one_model_options_and_a_cache_setting(tmp_path):
    seen = {}

    @click.command()
    @options(MODEL_SETTINGS)
    def command(**opts):
        seen["options"], seen["cache"] = pop_model_options(opts)
        seen["left"] = opts

    result = CliRunner().invoke(command, ["--query-instruction", "q: ", "--max-length", "24", "--max-inputs", "8",
                                          "--cache", str(tmp_path / "c.sqlite"), "--timeout", "5.5"])
    assert result.exit_code == 0, result.output
    assert seen["options"].query_instruction == "q: " and seen["options"].max_length == 24
    assert seen["options"].max_inputs == 8 and seen["cache"] == tmp_path / "c.sqlite" and seen["left"] == {}
    assert seen["options"].timeout == 5.5
    CliRunner().invoke(command, ["--no-cache"])
    assert seen["cache"] is False


def test_quiet_turns_library_bars_off(monkeypatch):
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    monkeypatch.delenv("TRANSFORMERS_VERBOSITY", raising=False)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    quiet_libraries(False)
    import os

    assert "HF_HUB_DISABLE_PROGRESS_BARS" not in os.environ
    quiet_libraries(True)
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1" and os.environ["TRANSFORMERS_VERBOSITY"] == "error"


def test_engine_settings_need_the_ray_engine_and_ray(monkeypatch):
    opts = {"engine": "local", "workers": None, "gpus_per_worker": 0.0, "ray_address": None, "vectors": "v"}
    with pytest.raises(click.UsageError, match="--vectors needs --engine ray"):
        pop_engine_options(opts, progress=False)
    opts = {"engine": "local", "workers": None, "gpus_per_worker": 0.0, "ray_address": None, "vectors": None}
    assert pop_engine_options(opts, progress=False) is None and not opts
    monkeypatch.setitem(sys.modules, "ray", None)
    opts = {"engine": "ray", "workers": None, "gpus_per_worker": 0.0, "ray_address": None, "vectors": None}
    with pytest.raises(MissingDependencyError, match=r"pip install 'embedlab\[ray\]'"):
        pop_engine_options(opts, progress=False)


@pytest.mark.parametrize("command, flag", [("mine", "--relative-margin"), ("mine", "--max-score"),
                                           ("mine", "--min-score"), ("mine", "--absolute-margin"),
                                           ("eval", "--bm25-k1"), ("eval", "--timeout"), ("eval", "--max-cost"),
                                           ("eval", "--price-per-mtok"), ("compare", "--alpha"),
                                           ("compare", "--margin")])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_number_option_refuses_nan_and_infinity(command, flag, value, tmp_path):
    """Issue 24, item 11: `mine --relative-margin nan` / `--max-score nan` turned the filter off (click takes nan)."""
    data = tmp_path / "rows.jsonl"
    data.write_text('{"query": "q", "positive": ["p"], "negative": ["n"]}\n')
    args = {"mine": [str(data), "-m", "bm25", "-o", str(tmp_path / "out.jsonl")],
            "eval": ["-m", "bm25", "--reranking", str(data)], "compare": [str(data)]}[command]
    result = CliRunner().invoke(cli, [command, *args, flag, value])
    assert result.exit_code == 2 and f"'{value}' is not a finite number" in result.output, result.output
    assert not (tmp_path / "out.jsonl").exists()


def test_backend_and_quantize_fill_model_options_and_int8_needs_an_export():
    @click.command()
    @options(MODEL_SETTINGS)
    def show(**opts):
        click.echo(repr(pop_model_options(opts)[0]))

    assert "backend='torch', quantize=None" in CliRunner().invoke(show, []).output
    shown = CliRunner().invoke(show, ["--backend", "onnx", "--quantize", "int8"]).output
    assert "backend='onnx', quantize='int8'" in shown
    refused = CliRunner().invoke(show, ["--quantize", "int8"])
    assert refused.exit_code == 2 and "--quantize int8 needs --backend onnx or openvino" in refused.output
    wrong = CliRunner().invoke(show, ["--backend", "tensorrt"])
    assert wrong.exit_code == 2 and "'tensorrt' is not one of 'torch', 'onnx', 'openvino'" in wrong.output
    assert "embedlab[onnx]" in CliRunner().invoke(show, ["--help"]).output
