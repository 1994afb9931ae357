"""`embedlab split` from the command line: new and old spellings."""

from __future__ import annotations

import json
import re

from embedlab.demo import RERANKING
from tests.cli.test_finetune import NOTE


def test_split_new_and_old_spellings(tmp_path):
    from click.testing import CliRunner

    from embedlab.cli.split import split_command

    new = CliRunner().invoke(split_command, [str(RERANKING), "--output", str(tmp_path / "new"), "--test-size", "0.25",
                                             "--dev-size", "0.1", "--format", "json"])
    assert new.exit_code == 0 and new.stderr == "", new.output
    old = CliRunner().invoke(split_command, [str(RERANKING), "--out", str(tmp_path / "old"), "--test", "0.25",
                                             "--dev", "0.1", "--format", "json"])
    assert old.exit_code == 0, old.output
    assert old.stderr.splitlines() == [NOTE.format("--out", "--output"), NOTE.format("--test", "--test-size"),
                                       NOTE.format("--dev", "--dev-size")]
    assert json.loads(old.stdout)["rows"] == json.loads(new.stdout)["rows"] == {"train": 26, "test": 10, "dev": 4}
    assert (tmp_path / "old" / "dev.jsonl").read_text() == (tmp_path / "new" / "dev.jsonl").read_text()
    shown = CliRunner().invoke(split_command, ["--help"]).output
    assert "--test-size" in shown and not re.search(r"--(out|test|dev)(?![\w-])", shown)
    both = CliRunner().invoke(split_command, [str(RERANKING), "-o", str(tmp_path / "x"), "--out", str(tmp_path / "y")])
    assert both.exit_code == 2 and "give --output only" in both.stderr
    assert "Missing option '-o' / '--output'" in CliRunner().invoke(split_command, [str(RERANKING)]).stderr
    too_much = CliRunner().invoke(split_command, [str(RERANKING), "-o", str(tmp_path / "z"), "--test-size", "0.6",
                                                  "--dev-size", "0.5"])
    assert too_much.exit_code == 2 and "together below 1" in too_much.stderr


def test_a_retrieval_folder_is_split_by_passage(retrieval_dir, tmp_path):
    from click.testing import CliRunner

    from embedlab.cli.split import split_command

    result = CliRunner().invoke(split_command, [str(retrieval_dir), "-o", str(tmp_path / "split"), "--test-size", "0.34"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"train: 2 queries -> {tmp_path / 'split' / 'train.jsonl'}"
    assert "no passage is a positive of a train query and of a held-out one" in result.stdout
    assert sorted(p.name for p in (tmp_path / "split" / "test").iterdir()) == ["corpus.jsonl", "qrels.tsv",
                                                                              "queries.jsonl"]
    refused = CliRunner().invoke(split_command, [str(retrieval_dir), "-o", str(tmp_path / "x"), "--drop-shared"])
    assert refused.exit_code == 2 and "split by passage" in refused.stderr
