"""data/output.py: outputs checked before the work, written atomically, nothing left by a failure."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from embedlab.data.output import (
    atomic_file,
    atomic_files,
    atomic_folder,
    check_output,
    dump_jsonl,
    is_saved_dataset,
    write_json,
    write_jsonl,
    write_text,
)
from embedlab.errors import DataError


def test_an_output_that_is_an_input_inside_one_or_holding_one_is_refused(tmp_path):
    source = tmp_path / "data" / "train.jsonl"
    source.parent.mkdir()
    source.write_text("{}\n")
    for target in (source, tmp_path / "data" / "." / "train.jsonl", tmp_path / "data", tmp_path):
        with pytest.raises(DataError, match="the output would overwrite or change the input") as refused:
            check_output(target, inputs=[source], overwrite=True, folder=target.is_dir())
        assert "somewhere else" in refused.value.hint
    with pytest.raises(DataError, match="the log would overwrite"):
        check_output(tmp_path / "data" / "x.jsonl", inputs=[tmp_path / "data"], role="log")
    assert check_output(tmp_path / "data" / "test.jsonl", inputs=[source]) == tmp_path / "data" / "test.jsonl"


def test_an_existing_output_needs_overwrite_and_the_right_kind(tmp_path):
    (tmp_path / "out.jsonl").write_text("kept\n")
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataError, match="already exists") as refused:
        check_output(tmp_path / "out.jsonl")
    assert refused.value.hint == "pass --overwrite to replace it"
    with pytest.raises(DataError, match="pass --force"):
        check_output(tmp_path / "out.jsonl", option="--force")
    assert check_output(tmp_path / "out.jsonl", overwrite=True)
    with pytest.raises(DataError, match="exists as a folder; expected a file"):
        check_output(tmp_path / "folder", overwrite=True)
    with pytest.raises(DataError, match="exists as a file; expected a folder"):
        check_output(tmp_path / "out.jsonl", overwrite=True, folder=True)
    with pytest.raises(DataError, match="cannot be created"):
        check_output(tmp_path / "out.jsonl" / "below.jsonl")
    assert (tmp_path / "out.jsonl").read_text() == "kept\n"


def test_atomic_file_replaces_on_success_and_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    with atomic_file(target) as partial:
        assert partial.parent == target.parent and partial.name.startswith(".a.txt.partial-")
        partial.write_text("new")
        assert not target.exists()
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError), atomic_file(target) as partial:
        partial.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "new" and sorted(p.name for p in target.parent.iterdir()) == ["a.txt"]


def test_atomic_folder_replaces_a_folder_whole(tmp_path):
    target = tmp_path / "out"
    with atomic_folder(target) as partial:
        (partial / "one.txt").write_text("1")
    with pytest.raises(RuntimeError), atomic_folder(target) as partial:
        (partial / "two.txt").write_text("2")
        raise RuntimeError("killed")
    assert [p.name for p in target.iterdir()] == ["one.txt"] and [p.name for p in tmp_path.iterdir()] == ["out"]
    with atomic_folder(target) as partial:
        (partial / "three.txt").write_text("3")
    assert [p.name for p in target.iterdir()] == ["three.txt"] and [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_files_appear_together_the_last_one_last(tmp_path, monkeypatch):
    import os

    import embedlab.data.output as output

    targets = [tmp_path / "s" / "train.jsonl", tmp_path / "s" / "test.jsonl", tmp_path / "s" / "manifest.json"]
    with pytest.raises(RuntimeError), atomic_files(targets) as partials:
        for partial in partials[:2]:
            partial.write_text("rows\n")
        raise RuntimeError("killed before the manifest")
    assert list((tmp_path / "s").iterdir()) == []
    with atomic_files(targets) as partials:
        for partial in partials:
            partial.write_text("first\n")
    seen = []

    def replace(source, target, real=os.replace):
        seen.append((target.name, targets[-1].exists()))  # the old manifest is gone before any file is replaced
        real(source, target)

    monkeypatch.setattr(output.os, "replace", replace)
    with atomic_files(targets) as partials:
        for partial in partials:
            partial.write_text("second\n")
    assert seen == [("train.jsonl", False), ("test.jsonl", False), ("manifest.json", False)]
    assert all(t.read_text() == "second\n" for t in targets)


def test_json_jsonl_and_text_writers(tmp_path):
    import numpy as np

    assert write_jsonl(tmp_path / "a.jsonl", [{"q": "为", "v": np.float32(0.5)}, {"l": np.arange(2)}]) == 2
    assert (tmp_path / "a.jsonl").read_text(encoding="utf-8") == '{"q": "为", "v": 0.5}\n{"l": [0, 1]}\n'
    with pytest.raises(TypeError):
        write_jsonl(tmp_path / "b.jsonl", [{"d": object()}])
    assert not (tmp_path / "b.jsonl").exists() and not list(tmp_path.glob(".b.jsonl*"))
    assert write_jsonl(tmp_path / "c.jsonl", [{"d": {1, 2}}], default=sorted) == 1
    assert json.loads((tmp_path / "c.jsonl").read_text()) == {"d": [1, 2]}
    assert dump_jsonl(tmp_path / "d.jsonl", iter([{"x": 1}])) == 1
    write_json(tmp_path / "e.json", {"k": [1]})
    assert json.loads((tmp_path / "e.json").read_text()) == {"k": [1]}
    write_text(tmp_path / "f.txt", "hello")
    assert (tmp_path / "f.txt").read_text() == "hello"


def test_is_saved_dataset(tmp_path):
    assert not is_saved_dataset(tmp_path)
    (tmp_path / "state.json").write_text("{}")
    assert is_saved_dataset(tmp_path) and not is_saved_dataset(tmp_path / "state.json")


def test_only_what_embedlab_wrote_is_regenerated_without_overwrite(tmp_path):
    from embedlab.data.output import MARK, check_output, regenerable
    from embedlab.report.markup import html_page
    from embedlab.results import Results

    results, page, notes = tmp_path / "r.json", tmp_path / "p.html", tmp_path / "n.md"
    Results([]).to_json(results)
    page.write_text(html_page("t", "<p>x</p>"))
    notes.write_text(f"# embedlab report\n\n<!-- {MARK} -->\n")
    assert regenerable(results) and regenerable(page) and regenerable(notes)
    foreign = {"cache.sqlite": "SQLite format 3\x00", "config.json": '{"schema": "other/1"}', "notes.md": "# mine\n",
               "page.html": "<html><body>mine</body></html>", "broken.json": '{"schema": "embedlab.results/1"'}
    for name, text in foreign.items():
        (tmp_path / name).write_text(text)
        assert not regenerable(tmp_path / name), name
        with pytest.raises(DataError, match="already exists"):
            check_output(tmp_path / name, regenerate=True)
    assert check_output(results, regenerate=True) == results
    with pytest.raises(DataError, match="already exists"):
        check_output(results)  # without `regenerate`, the old rule: --overwrite


def _killed_while_writing(target, kind: str) -> None:
    """A process killed inside an atomic write (as `inspect --fix` killed mid-copy): it leaves its partial behind."""
    code = ("import os, sys\nfrom embedlab.data import output\n"
            f"block = output.{kind}(sys.argv[1]) if '{kind}' != 'atomic_files' else output.atomic_files([sys.argv[1]])\n"
            "with block as partial:\n"
            "    p = partial[0] if isinstance(partial, list) else partial\n"
            "    (p / 'x').write_text('half') if '{kind}' == 'atomic_folder' else p.write_text('half')\n"
            "    os._exit(9)\n").replace("{kind}", kind)
    done = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True)
    assert done.returncode == 9, done.stderr


@pytest.mark.parametrize("kind", ["atomic_file", "atomic_folder", "atomic_files"])
def test_the_partials_of_a_killed_process_are_removed_by_the_next_write(tmp_path, kind):
    """Issue 24, item 21: `inspect --fix` killed left hidden `.partial` files for good."""
    target = tmp_path / ("clean" if kind == "atomic_folder" else "clean.jsonl")
    _killed_while_writing(target, kind)
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name]  # left behind
    alive = tmp_path / f".{target.name}.partial-{socket.gethostname()}-{os.getppid()}"  # a live process: kept
    alive.write_text("in use")
    other = tmp_path / f".{target.name}.partial-another-host-1"  # another machine's (a shared folder): kept
    other.write_text("in use")
    if kind == "atomic_folder":
        with atomic_folder(target) as partial:
            (partial / "x").write_text("whole")
    else:
        write_text(target, "whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, alive.name, other.name])
