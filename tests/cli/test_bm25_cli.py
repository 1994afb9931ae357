"""`-m bm25` from the command line: the demo, the options, a bad tokenizer, the index cache."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from embedlab.cli.main import cli

pytest.importorskip("bm25s")


def invoke(*args):
    return CliRunner().invoke(cli, [*map(str, args)], env={"COLUMNS": "200"})


def test_eval_bm25_on_the_demo(tmp_path):
    result = invoke("eval", "-m", "bm25", "--demo", "-q", "-o", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    assert "bm25" in result.stdout and "nDCG@10" in result.stdout
    saved = json.loads((tmp_path / "r.json").read_text())
    run = saved["runs"][0]
    assert run["model"]["tokenizer"] == "auto" and run["model"]["tokenizer_used"] == "word"
    assert run["tasks"][0]["scores"]["v2.map@1000"] > 0.5 and run["tasks"][1]["scores"]["ndcg@10"] > 0.5


def test_the_options_reach_the_model_and_name_the_runs(tmp_path):
    result = invoke("eval", "-m", "bm25", "-m", "bm25:char", "--demo", "-q", "--bm25-k1", "1.2", "--bm25-b", "0.5",
                    "--bm25-tokenizer", "whitespace", "--format", "json", "-o", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    models = [run["model"] for run in json.loads(result.stdout)["runs"]]
    assert [(m["name"], m["tokenizer"], m["k1"], m["b"]) for m in models] == \
        [("bm25", "whitespace", 1.2, 0.5), ("bm25:char", "char", 1.2, 0.5)]


@pytest.mark.parametrize("args", [["-m", "bm25", "--bm25-tokenizer", "wrod"], ["-m", "bm25:wrod"],
                                  ["-m", "bm25", "-m", "bm25:chars", "--bm25-tokenizer", "char"]])
def test_a_bad_tokenizer_is_one_line_and_exit_2(args, tmp_path):
    result = invoke("eval", *args, "--demo", "-q", "-o", tmp_path / "r.json")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "tokenizer" in lines[0], result.stderr
    assert not (tmp_path / "r.json").exists()


def test_with_cache_the_index_is_kept_beside_the_cache_file(tmp_path):
    cache = tmp_path / "c" / "embeddings.sqlite"
    for name in ("one", "two"):
        result = invoke("eval", "-m", "bm25", "--demo", "-q", "--cache", cache, "-o", tmp_path / f"{name}.json")
        assert result.exit_code == 0, result.output
    saved = [json.loads((tmp_path / f"{name}.json").read_text())["runs"][0]["tasks"] for name in ("one", "two")]
    assert [t["scores"] for t in saved[0]] == [t["scores"] for t in saved[1]]
    assert len(list((tmp_path / "c" / "indexes").glob("bm25-*"))) == 2  # the demo's two corpora


def test_estimate_and_mine_take_the_bm25_options(tmp_path):
    result = invoke("estimate", "-m", "bm25:char", "--demo", "--bm25-b", "0.3", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["to_embed"] == 0
    # mining needs vectors: BM25's options would change nothing there, so mine does not take them (issue 24, 19)
    refused = invoke("mine", "x.jsonl", "-m", "m", "-o", tmp_path / "o.jsonl", "--bm25-tokenizer", "char")
    assert refused.exit_code == 2 and "No such option '--bm25-tokenizer'" in refused.output
