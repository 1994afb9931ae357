import json

import pytest

from embedlab.errors import DataError, EmbedlabError, UnknownNameError
from embedlab.synth.passages import parse_chunk, read_passages, sample_passages
from tests.conftest import write_beir, write_jsonl

LONG = "Green tea is brewed at eighty degrees. " * 30  # 1,170 characters


def test_a_retrieval_folder_is_a_corpus_taken_as_it_is(retrieval_dir):
    passages = read_passages([retrieval_dir])
    assert [p.id for p in passages.items] == ["d1", "d2", "d3", "d4", "d5", "d6"]
    assert passages.source["layout"] == "corpus" and passages.source["chunking"] is None
    assert passages.items[0].text == "green tea is brewed at 80 degrees"


def test_a_corpus_file_keeps_ids_and_titles(tmp_path):
    path = write_jsonl(tmp_path / "corpus.jsonl", [{"_id": "x", "title": "Tea", "text": LONG}, {"_id": 7, "text": "b"}])
    passages = read_passages([path])
    assert [(p.id, p.title) for p in passages.items] == [("x", "Tea"), ("7", "")]
    assert passages.items[0].content.startswith("Tea Green tea")
    chunked = read_passages([path], chunk="recursive-300")  # an explicit --chunk cuts a corpus too
    assert len(chunked.items) > 3 and chunked.items[0].id.startswith("x:0-")
    assert all(len(p.text) <= 300 for p in chunked.items)


def test_documents_are_chunked_with_ids_a_qrels_file_can_hold(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "my notes.md").write_text(LONG, encoding="utf-8")
    (tmp_path / "docs" / "short.txt").write_text("Black tea needs boiling water.", encoding="utf-8")
    passages = read_passages([tmp_path / "docs"])
    assert passages.source["layout"] == "documents" and passages.source["chunking"]["label"] == "recursive-500"
    ids = [p.id for p in passages.items]
    assert ids[0].startswith("my_notes.md:0-") and ids[-1] == "short.txt:0-30" and len(ids) == 4
    assert read_passages([tmp_path / "docs"], chunk="none").items[0].text == LONG.strip()
    rows = write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "content": LONG}])  # no _id: documents
    assert read_passages([rows]).source["layout"] == "documents"


def test_passages_with_no_text_and_duplicate_ids_are_one_line_each(tmp_path):
    empty = write_beir(tmp_path / "empty", {"d1": "tea", "d2": "  "}, {"q": "tea"}, [("q", "d1", 1)])
    with pytest.raises(DataError, match=r"corpus.jsonl:2: field 'text': passage 'd2' has no text"):
        read_passages([empty])
    twice = tmp_path / "twice.jsonl"
    twice.write_text(json.dumps({"_id": "a", "text": "x"}) + "\n" + json.dumps({"_id": "a", "text": "y"}) + "\n")
    with pytest.raises(DataError, match=r"twice.jsonl:2: field '_id': passage id 'a' occurs twice \(also at .*:1\)"):
        read_passages([twice])
    one, other = (write_jsonl(tmp_path / f"{name}.jsonl", [{"_id": "a", "text": name}]) for name in ("one", "other"))
    with pytest.raises(DataError, match="other.jsonl:1: field '_id': passage id 'a' occurs twice"):
        read_passages([one, other])
    (tmp_path / "blank.txt").write_text("   ", encoding="utf-8")
    with pytest.raises(DataError, match="blank.txt.*is empty"):
        read_passages([tmp_path / "blank.txt"])


def test_chunk_settings_are_checked_before_anything_is_read():
    assert parse_chunk("auto") is None and parse_chunk("none") is None
    assert parse_chunk("sentence-300-50").label() == "sentence-300-50"
    for bad, error in (("recursive", EmbedlabError), ("recursive-x", EmbedlabError), ("semantic-300", EmbedlabError),
                       ("recursive-300-400", EmbedlabError), ("recursiv-300", UnknownNameError)):
        with pytest.raises(error):
            parse_chunk(bad)


def test_a_seeded_sample_in_corpus_order(retrieval_dir):
    passages = read_passages([retrieval_dir])
    sample = sample_passages(passages, 3, seed=1)
    assert len(sample) == 3 and sample == sorted(sample, key=passages.items.index)
    assert sample == sample_passages(passages, 3, seed=1) and sample_passages(passages, 99, 1) == passages.items
