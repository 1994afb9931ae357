"""Relevance of chunks to answers: spans at chunk borders, in overlaps, in the last chunk."""

from embedlab.chunking.corpus import chunked_corpus, excerpts_of, source_hash
from embedlab.chunking.documents import make_document
from embedlab.chunking.questions import Question, QuestionSet
from embedlab.chunking.splitters import ChunkConfig, split_document
from embedlab.chunking.units import CharUnits

TEXT = "".join(chr(0x4e00 + i) for i in range(50))  # 50 distinct CJK characters, one unit each


def corpus_for(config, spans):
    units = CharUnits()
    documents = {"d": make_document("d", TEXT, "x")}
    questions = QuestionSet([Question(f"q{i}", "问", ("d",), (span,)) for i, span in enumerate(spans)], "span", "x")
    chunks = split_document(documents["d"], config, units)
    return chunks, chunked_corpus("t", chunks, documents, questions, excerpts_of(questions, documents, units), units)


def test_windows_and_qrels_at_borders_overlaps_and_the_end():
    # windows of 20 with overlap 5: [0,20) [15,35) [30,50)
    spans = [(16, 20),  # inside the overlap of chunks 0 and 1: both hold it
             (18, 22),  # across the border of chunk 0, inside chunk 1
             (33, 37),  # across 1 | 2 but inside 2 (its overlap)
             (45, 50),  # the very end: the last chunk
             (0, 20)]   # exactly chunk 0
    chunks, corpus = corpus_for(ChunkConfig("tokens", 20, 5), spans)
    assert [(c.start, c.end) for c in chunks] == [(0, 20), (15, 35), (30, 50)]
    ids = [c.id for c in chunks]
    assert corpus.task.qrels == {"q0": {ids[0]: 1, ids[1]: 1}, "q1": {ids[1]: 1}, "q2": {ids[2]: 1},
                                 "q3": {ids[2]: 1}, "q4": {ids[0]: 1}}
    assert corpus.cut_answers == 0 and corpus.task.corpus[ids[2]] == TEXT[30:50]


def test_an_answer_every_chunk_cuts_is_judged_zero_not_dropped():
    chunks, corpus = corpus_for(ChunkConfig("tokens", 20, 0), [(18, 22)])
    assert corpus.cut_answers == 1
    assert corpus.task.qrels == {"q0": {chunks[0].id: 0}}  # the first chunk it touches, grade 0
    assert corpus.task.counts()["queries_without_relevant"] == 1


def test_source_hash_ignores_the_chunking():
    documents = {"d": make_document("d", TEXT, "x")}
    questions = QuestionSet([Question("q", "问", ("d",), ((1, 3),))], "span", "x")
    assert source_hash(documents, questions) == source_hash(dict(documents), questions)
    moved = QuestionSet([Question("q", "问", ("d",), ((1, 4),))], "span", "x")
    assert source_hash(documents, questions) != source_hash(documents, moved)
