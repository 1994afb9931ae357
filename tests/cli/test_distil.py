"""`embedlab distil`: a static model folder from a local model; bad input is one line, exit 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from tests.models.test_static import tiny_bert

pytest.importorskip("model2vec")


def test_distil_writes_a_static_model_and_reports_it(tmp_path):
    source = tiny_bert(tmp_path)
    result = CliRunner().invoke(cli, ["distil", str(source), "-o", str(tmp_path / "out"), "--dims", "4",
                                      "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert made["dimension"] == 4 and made["pooling"] == "mean" and made["output"] == str(tmp_path / "out")
    assert (tmp_path / "out" / "model.safetensors").exists()
    table = CliRunner().invoke(cli, ["distil", str(source), "-o", str(tmp_path / "out"), "--dims", "4", "-q",
                                     "--overwrite"])
    assert table.exit_code == 0 and f"-m static:{tmp_path / 'out'}" in table.stdout


@pytest.mark.parametrize("case", ["exists", "input", "missing model", "too many dims"])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, case):
    source = tiny_bert(tmp_path)
    output = {"exists": tmp_path / "taken", "input": source / "out"}.get(case, tmp_path / "out")
    (tmp_path / "taken").mkdir()
    model = str(tmp_path / "absent") if case == "missing model" else str(source)
    dims = "64" if case == "too many dims" else "4"
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(cli, ["distil", model, "-o", str(output), "--dims", dims, "-q"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.replace("\r", "\n").splitlines() if line and "Loading weights" not in line]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr  # (a library's bar aside: in-process)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
