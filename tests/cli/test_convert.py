"""`embedlab convert` as a bare click command (the owner registers it on the `embedlab` group)."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from embedlab.cli.convert import convert_command
from embedlab.cli.main import _Group
from embedlab.errors import DataError
from tests.conftest import RERANK_ROWS, write_jsonl


def invoke(*args, **kwargs):
    return CliRunner().invoke(convert_command, [str(a) for a in args], **kwargs)


def test_summary_goes_to_stderr_and_the_output_is_written(tmp_path):
    source = write_jsonl(tmp_path / "rerank.jsonl", RERANK_ROWS)
    result = invoke(source, "-o", tmp_path / "flag.parquet", "--to", "flag")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"read 4 rows (reranking) from {source}; wrote 4 rows (flag, parquet) to ")
    assert "fields: positive -> pos, negative -> neg. kept unchanged: _id." in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "flag.parquet").column_names == ["_id", "query", "pos", "neg"]


def test_json_report_on_stdout(tmp_path):
    source = write_jsonl(tmp_path / "rerank.jsonl", RERANK_ROWS)
    result = invoke(source, "-o", tmp_path / "t.jsonl", "--to", "triplets", "--allow-lossy", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dropped"] == {"_id": 4} and report["rows_written"] == 11
    assert "dropped (the target layout has no place for them): _id (4 rows)" in result.stderr


def test_retrieval_folder_with_sampled_negatives_and_drop_ids(tmp_path, retrieval_dir):
    result = invoke(retrieval_dir, "-o", tmp_path / "rows.jsonl", "--num-negatives", "2", "--seed", "5", "--drop-ids")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert [r["query"] for r in rows] == ["brew green tea", "flat bicycle tyre", "water a cactus"]
    assert rows[1]["negative"][0] == "oil the bicycle chain monthly" and len(rows[1]["negative"]) == 3
    assert all("_id" not in r for r in rows)
    assert "read 4 queries (retrieval)" in result.stderr and "1 query without any judgment" in result.stderr


def test_bad_input_raises_a_data_error_and_the_group_exits_2_with_one_line(tmp_path):
    source = write_jsonl(tmp_path / "rerank.jsonl", RERANK_ROWS)
    result = invoke(source, "-o", tmp_path / "t.jsonl", "--to", "triplets", standalone_mode=False)
    assert isinstance(result.exception, DataError) and "field '_id'" in str(result.exception)
    group = _Group("embedlab", commands={"convert": convert_command})
    result = CliRunner().invoke(group, ["convert", str(source), "-o", str(tmp_path / "t.jsonl"), "--to", "triplets"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        (f"error: {source}:1: field '_id': a triplet has no place for this field (4 rows with it) "
         f"(pass --allow-lossy to drop it, or convert to reranking/flag, which keep every field)")]
    assert not (tmp_path / "t.jsonl").exists()
    assert invoke(source, "-o", tmp_path / "o.jsonl", "--to", "pairs").exit_code == 2  # click's own usage error


def test_help_is_fast_and_mentions_mining():
    code = ("import sys\nfrom embedlab.cli.convert import convert_command\n"
            "try:\n    convert_command(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pyarrow', 'datasets', 'numpy', 'torch') if m in sys.modules]\n"
            "assert not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "embedlab mine" in result.stdout and "--allow-lossy" in result.stdout and "Examples:" in result.stdout


def test_to_retrieval_then_eval_reads_the_folder(tmp_path):
    from embedlab.demo import RERANKING, default_model
    from tests.cli.test_main import run

    result = invoke(RERANKING, "-o", tmp_path / "pool", "--to", "retrieval")
    assert result.exit_code == 0, result.output
    assert "wrote 39 queries, 60 documents and 194 judgments (retrieval folder)" in result.stderr
    assert "skipped: 1 row without a positive" in result.stderr
    scored = run("eval", "-m", str(default_model()), "--retrieval", str(tmp_path / "pool"), "--format", "json",
                 "-q", "-o", str(tmp_path / "r.json"))
    assert scored.returncode == 0, scored.stderr
    task = json.loads(scored.stdout)["runs"][0]["tasks"][0]
    assert task["type"] == "retrieval" and task["counts"]["queries"] == 39 and 0 < task["scores"]["ndcg@10"] <= 1


def test_old_positional_target_and_format_text_still_work_with_a_note(tmp_path):
    source = write_jsonl(tmp_path / "rerank.jsonl", RERANK_ROWS)
    note = "note: {} is now {} (the old spelling goes in the next release)"
    old = invoke(source, tmp_path / "old.jsonl", "--to", "flag", "--format", "text")
    assert old.exit_code == 0, old.output
    assert old.stdout == "" and old.stderr.splitlines()[:2] == [
        note.format("--format text", "--format table"), note.format("convert SOURCE TARGET", "convert SOURCE -o TARGET")]
    new = invoke(source, "--output", tmp_path / "new.jsonl", "--to", "flag", "--format", "table")
    assert new.exit_code == 0 and "note:" not in new.stderr
    assert (tmp_path / "old.jsonl").read_text() == (tmp_path / "new.jsonl").read_text()
    both = invoke(source, tmp_path / "a.jsonl", "-o", tmp_path / "b.jsonl")
    assert both.exit_code == 2 and "give the output once" in both.stderr
    assert invoke(source).exit_code == 2 and not (tmp_path / "a.jsonl").exists()
    shown = invoke("--help").output
    assert "Usage: convert [OPTIONS] SOURCE\n" in shown and "TARGET" not in shown and "[table|json]" in shown
