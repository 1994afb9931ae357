import json

import pytest

from embedlab.data.split import split_rows
from embedlab.data.text import normalise
from embedlab.errors import DataError
from tests.conftest import write_jsonl


def rows(n=30):
    out = []
    for i in range(n):
        out.append({"query": f"question {i}?", "positive": [f"answer {i}"],
                    "negative": [f"other {i}", f"shared {i % 3}"]})
    return out


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_normalised_equal_queries_share_a_split(tmp_path):
    data = rows(30) + [{"query": "QUESTION  7", "positive": ["x7"], "negative": ["y7"]},
                       {"query": "ｑｕｅｓｔｉｏｎ ７!", "positive": ["z7"], "negative": ["w7"]}]
    assert normalise("QUESTION  7") == normalise("ｑｕｅｓｔｉｏｎ ７!") == "question7"
    for seed in range(5):
        split_rows(write_jsonl(tmp_path / "d.jsonl", data), tmp_path / f"s{seed}", seed=seed, test=0.3)
        where = {name: {normalise(r["query"]) for r in read(tmp_path / f"s{seed}" / f"{name}.jsonl")}
                 for name in ("train", "test")}
        assert not where["train"] & where["test"]


def test_every_row_lands_once_and_seed_is_reproducible(tmp_path):
    source = write_jsonl(tmp_path / "d.jsonl", rows(50))
    a = split_rows(source, tmp_path / "a", test=0.2, dev=0.1, seed=3)
    split_rows(source, tmp_path / "b", test=0.2, dev=0.1, seed=3)
    split_rows(source, tmp_path / "c", test=0.2, dev=0.1, seed=4)
    assert a.rows == {"train": 35, "test": 10, "dev": 5}
    got = sorted(r["query"] for name in ("train", "test", "dev") for r in read(tmp_path / "a" / f"{name}.jsonl"))
    assert got == sorted(r["query"] for r in rows(50))
    assert (tmp_path / "a" / "test.jsonl").read_bytes() == (tmp_path / "b" / "test.jsonl").read_bytes()
    assert (tmp_path / "a" / "test.jsonl").read_bytes() != (tmp_path / "c" / "test.jsonl").read_bytes()


def test_shared_passages_are_reported_and_dropped_from_train_only(tmp_path):
    source = write_jsonl(tmp_path / "d.jsonl", rows(30))
    kept = split_rows(source, tmp_path / "kept", test=0.3, seed=0)
    assert kept.shared_passages == 3  # "shared 0/1/2" occur in both splits
    assert kept.shared_positives == 0 and kept.examples
    dropped = split_rows(source, tmp_path / "dropped", test=0.3, seed=0, drop_shared=True)
    test_passages = {p for r in read(tmp_path / "dropped" / "test.jsonl") for p in r["positive"] + r["negative"]}
    train = read(tmp_path / "dropped" / "train.jsonl")
    assert not test_passages & {p for r in train for p in r["positive"] + r["negative"]}
    assert dropped.dropped_from_train["passages"] == kept.train_rows_touching_shared
    assert (tmp_path / "dropped" / "test.jsonl").read_bytes() == (tmp_path / "kept" / "test.jsonl").read_bytes()


def test_train_rows_left_without_positive_are_removed_and_counted(tmp_path):
    data = [{"query": f"q{i}", "positive": ["the same answer"], "negative": [f"n{i}"]} for i in range(10)]
    report = split_rows(write_jsonl(tmp_path / "d.jsonl", data), tmp_path / "s", test=0.2, drop_shared=True)
    assert report.dropped_from_train["rows_without_positive"] == 8
    assert report.rows["train"] == 0 and report.rows["test"] == 2


def test_manifest_records_seed_counts_and_hashes(tmp_path):
    import hashlib

    split_rows(write_jsonl(tmp_path / "d.jsonl", rows(20)), tmp_path / "s", seed=7)
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["rows"] == {"train": 16, "test": 4}
    for info in manifest["files"].values():
        assert info["sha256"] == hashlib.sha256((tmp_path / "s" / info["path"]).read_bytes()).hexdigest()
    assert manifest["source_sha256"] == hashlib.sha256((tmp_path / "d.jsonl").read_bytes()).hexdigest()


def test_bad_input_is_named(tmp_path):
    with pytest.raises(ValueError, match="test"):
        split_rows(write_jsonl(tmp_path / "d.jsonl", rows(5)), tmp_path / "s", test=1.5)
    with pytest.raises(DataError, match="too few query groups"):
        split_rows(write_jsonl(tmp_path / "one.jsonl", rows(1)), tmp_path / "s", test=0.2)
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"query": "q", "positive": "not a list", "negative": []}])
    with pytest.raises(DataError, match=r"bad.jsonl:1: field 'positive'"):
        split_rows(bad, tmp_path / "s")


# -- outputs: never over the input, an existing one only with overwrite, nothing left by a failed split ----

def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path):
    source = write_jsonl(tmp_path / "data" / "train.jsonl", rows(30))
    before = source.read_bytes()
    for overwrite in (False, True):
        with pytest.raises(DataError, match="would overwrite or change the input"):
            split_rows(source, tmp_path / "data", test=0.2, drop_shared=True, overwrite=overwrite)
    assert source.read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["train.jsonl"]


def test_an_output_inside_a_dataset_folder_input_is_refused(tmp_path):
    write_jsonl(tmp_path / "hf" / "data" / "test.jsonl", rows(10))
    with pytest.raises(DataError, match="would overwrite or change the input"):
        split_rows(tmp_path / "hf", tmp_path / "hf" / "splits")
    assert not (tmp_path / "hf" / "splits").exists()


def test_existing_outputs_are_replaced_only_with_overwrite(tmp_path):
    source = write_jsonl(tmp_path / "d.jsonl", rows(20))
    split_rows(source, tmp_path / "s", seed=1)
    before = {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir()}
    with pytest.raises(DataError, match="already exists") as refused:
        split_rows(source, tmp_path / "s", seed=2)
    assert "--overwrite" in refused.value.hint
    assert {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir()} == before
    report = split_rows(source, tmp_path / "s", seed=2, overwrite=True)
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["seed"] == 2 and report.rows == manifest["rows"]
    assert (tmp_path / "s" / "test.jsonl").read_bytes() != before["test.jsonl"]


def test_a_split_that_fails_while_writing_leaves_no_output(tmp_path, monkeypatch):
    import embedlab.data.split as split_module

    source = write_jsonl(tmp_path / "d.jsonl", rows(20))
    written = []

    def fail_on_the_second_file(path, records, **kwargs):
        written.append(path)
        if len(written) == 2:
            raise OSError("disk full")
        return real(path, records, **kwargs)

    real = split_module.dump_jsonl
    monkeypatch.setattr(split_module, "dump_jsonl", fail_on_the_second_file)
    with pytest.raises(OSError, match="disk full"):
        split_rows(source, tmp_path / "s")
    assert list((tmp_path / "s").iterdir()) == []  # no train.jsonl, no manifest, no partial file


def test_split_command_overwrite_flag(tmp_path):
    from click.testing import CliRunner

    from embedlab.cli.split import split_command

    source = write_jsonl(tmp_path / "d.jsonl", rows(20))
    out = tmp_path / "s"
    assert CliRunner().invoke(split_command, [str(source), "-o", str(out)]).exit_code == 0
    again = CliRunner().invoke(split_command, [str(source), "-o", str(out)], standalone_mode=False)
    assert isinstance(again.exception, DataError) and "already exists" in str(again.exception)
    replaced = CliRunner().invoke(split_command, [str(source), "-o", str(out), "--overwrite", "--seed", "3"])
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3
    onto_input = CliRunner().invoke(split_command, [str(out / "train.jsonl"), "-o", str(out), "--overwrite"],
                                    standalone_mode=False)
    assert isinstance(onto_input.exception, DataError) and "input" in str(onto_input.exception)
