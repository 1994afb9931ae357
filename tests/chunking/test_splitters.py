import pytest

from embedlab.chunking.documents import make_document
from embedlab.chunking.splitters import ChunkConfig, grid, split_document
from embedlab.chunking.units import CharUnits, TokenUnits
from embedlab.demo import default_model
from embedlab.errors import EmbedlabError

TEXT = ("黑豹队今年的防守非常出色，只丢了三百零八分。队长说：“我们还能更好！”教练同意吗？他同意；"
        "球迷们也很满意……下个赛季的目标是冠军。\n\n第二段讲的是价格，门票涨到了3.14倍。最后一句在这里。")


def test_grid_checks_before_anything():
    assert [c.label() for c in grid(["tokens", "semantic", "none"], [32, 64], [0, 8])] == [
        "tokens-32", "tokens-32-8", "tokens-64", "tokens-64-8", "semantic-32", "semantic-64", "none"]
    with pytest.raises(EmbedlabError, match="unknown splitter 'sentences'; did you mean 'sentence'"):
        grid(["sentences"], [64], [0])
    with pytest.raises(EmbedlabError, match="--overlap 64 is not below --size 64"):
        grid(["recursive"], [64], [64])
    with pytest.raises(EmbedlabError, match="below the shortest sensible chunk"):
        grid(["tokens"], [8], [0])


@pytest.fixture(scope="module")
def units():
    return TokenUnits.of_model(default_model())


@pytest.mark.parametrize("config", [ChunkConfig("tokens", 20, 5), ChunkConfig("recursive", 20, 5),
                                    ChunkConfig("sentence", 20, 5), ChunkConfig("sentence", 20, 0),
                                    ChunkConfig("none")])
def test_chunks_keep_offsets_respect_size_and_cover_the_text(units, config):
    document = make_document("d", TEXT, "x")
    chunks = split_document(document, config, units)
    assert chunks and all(c.doc_id == "d" and c.end > c.start for c in chunks)
    for chunk in chunks:
        if config.size:
            assert units.count(TEXT, chunk.start, chunk.end) <= config.size
        assert TEXT[chunk.start:chunk.end].strip() == TEXT[chunk.start:chunk.end]
    covered = set().union(*(range(c.start, c.end) for c in chunks))
    assert all(i in covered for i, ch in enumerate(TEXT) if not ch.isspace())  # nothing lost
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


def test_token_windows_overlap_by_the_overlap(units):
    document = make_document("d", TEXT, "x")
    chunks = split_document(document, ChunkConfig("tokens", 20, 5), units)
    for a, b in zip(chunks, chunks[1:]):
        assert units.count(TEXT, b.start, a.end) == 5
    assert chunks[-1].end == len(TEXT)


def test_sentence_packing_cuts_only_at_sentence_ends(units):
    document = make_document("d", TEXT, "x")
    ends = {TEXT.index(p) + 1 for p in "。！？；"} | {i + 1 for i, ch in enumerate(TEXT) if ch in "。？；…”"}
    for chunk in split_document(document, ChunkConfig("sentence", 40, 0), units)[:-1]:
        assert chunk.end in ends
    chunks = split_document(document, ChunkConfig("sentence", 40, 15), units)
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:]))  # overlapping sentences repeated


def test_semantic_breaks_force_new_chunks():
    units = CharUnits()
    document = make_document("d", "甲。乙。丙。丁。", "x")
    chunks = split_document(document, ChunkConfig("semantic", 100), units, breaks=lambda doc, sentences: {2})
    assert [document.text[c.start:c.end] for c in chunks] == ["甲。乙。", "丙。丁。"]
