import pytest

from embedlab.chunking.documents import Normalised, make_document, read_documents
from embedlab.errors import DataError


def test_normalised_maps_every_original_offset():
    original = "\ufeffab\r\ncd\re"
    norm = Normalised.of(original)
    assert norm.text == "ab\ncd\ne"
    # each original character lands where its normalised self is
    assert norm.text[norm.offset(original.index("c"))] == "c"
    assert norm.text[norm.offset(original.index("e"))] == "e"
    assert norm.offset(len(original)) == len(norm.text)


def test_document_without_changes_keeps_offsets():
    document = make_document("d", "价格是3.14元。", "x.txt")
    assert document.original is None and document.offset(3) == 3


def test_read_documents_files_folders_and_jsonl(tmp_path):
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "a.txt").write_text("第一篇。", encoding="utf-8")
    (tmp_path / "docs" / "sub" / "b.md").write_text("# 标题\n第二篇", encoding="utf-8")
    (tmp_path / "docs" / "skip.bin").write_bytes(b"\x00")
    (tmp_path / "more.jsonl").write_text('{"id": "j1", "text": "第三篇"}\n\n{"_id": 7, "text": "第四篇"}\n',
                                         encoding="utf-8")
    documents = read_documents([tmp_path / "docs", tmp_path / "more.jsonl"])
    assert list(documents) == ["a.txt", "sub/b.md", "j1", "7"]
    assert documents["7"].line == 3 and documents["sub/b.md"].text.startswith("# 标题")


@pytest.mark.parametrize("content", ["", "  \n\t "])
def test_empty_document_is_one_error_naming_it(tmp_path, content):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "ok", "text": "有字"}\n' + '{"id": "e", "text": "%s"}\n' % content.replace("\n", "\\n")
                    .replace("\t", "\\t"), encoding="utf-8")
    with pytest.raises(DataError, match=r"d\.jsonl:2: field 'text': document 'e' is empty"):
        read_documents([path])


def test_duplicate_ids_and_unknown_formats(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"id": "x", "text": "一"}\n{"id": "x", "text": "二"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="'x' occurs twice"):
        read_documents([tmp_path / "a.jsonl"])
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(DataError, match="unknown document format"):
        read_documents([tmp_path / "a.pdf"])
