import json

import pytest

from embedlab.data.retrieval import load_retrieval
from embedlab.errors import DataError
from embedlab.synth.drafts import Draft
from embedlab.synth.folder import SCHEMA, read_provenance, write_folder
from embedlab.synth.passages import Passage

CORPUS = {"a": Passage("a", "green tea at eighty degrees", "Tea"), "b": Passage("b", "black tea, boiling water", "Tea"),
          "c": Passage("c", "coffee beans")}
KEPT = [Draft("brew green tea", "a", ("a",), "question"), Draft("Tea", "a", ("a", "b"), "title")]


def test_the_folder_is_a_retrieval_set_with_its_provenance(tmp_path):
    seen = []

    def rows(numbered, corpus, path):
        seen.append(([qid for qid, _ in numbered], path.name, path.parent.name.startswith(".out.partial")))
        path.write_text("", encoding="utf-8")
        return {"rows": len(numbered)}
    written = write_folder(tmp_path / "out", CORPUS, KEPT, [{"query": "x", "filter": "length"}], {"seed": 3}, rows)
    task = load_retrieval(tmp_path / "out")
    assert task.corpus == {"a": "Tea green tea at eighty degrees", "b": "Tea black tea, boiling water",
                           "c": "coffee beans"}
    assert task.queries == {"q1": "brew green tea", "q2": "Tea"} and task.qrels == {"q1": {"a": 1},
                                                                                   "q2": {"a": 1, "b": 1}}
    assert seen == [(["q1", "q2"], "reranking.jsonl", True)]  # mined inside the folder before it is in place
    assert written == {"schema": SCHEMA, "seed": 3, "reranking_rows": {"rows": 2}, "queries": 2, "judgments": 3}
    assert read_provenance(tmp_path / "out") == written
    first = json.loads((tmp_path / "out" / "queries.jsonl").read_text().splitlines()[0])
    assert first == {"_id": "q1", "text": "brew green tea", "passage": "a", "style": "question"}
    assert (tmp_path / "out" / "removed.jsonl").read_text() == '{"query": "x", "filter": "length"}\n'


def test_a_failure_while_writing_leaves_nothing(tmp_path):
    def broken(numbered, corpus, path):
        raise RuntimeError("mining failed")
    with pytest.raises(RuntimeError):
        write_folder(tmp_path / "out", CORPUS, KEPT, [], {}, broken)
    assert list(tmp_path.iterdir()) == []


def test_provenance_of_other_folders(tmp_path, retrieval_dir):
    assert read_provenance(retrieval_dir) is None
    (retrieval_dir / "synth.json").write_text('{"schema": "other/1"}')
    with pytest.raises(DataError, match="not a provenance file of embedlab synth"):
        read_provenance(retrieval_dir)
