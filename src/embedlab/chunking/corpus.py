"""One configuration's chunks as a retrieval corpus: the `RetrievalTask` the existing scorers rank, the chunk
table the span metrics read, and the qrels: a chunk holding the whole of an answer is relevant (grade 1). A
query whose answer no chunk holds whole (every chunk cuts it) keeps one judged chunk of grade 0, so it scores
0 instead of being dropped: a configuration that cuts answers pays for it. Document-level judgments make
every chunk of a judged document relevant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedlab.chunking.documents import Document
from embedlab.chunking.questions import QuestionSet
from embedlab.chunking.spans import ChunkTable, Excerpts, holding
from embedlab.chunking.splitters import Chunk
from embedlab.chunking.units import CharUnits
from embedlab.tasks.fingerprint import content_hash
from embedlab.tasks.retrieval import RetrievalTask


@dataclass
class ChunkedCorpus:
    task: RetrievalTask
    table: ChunkTable
    cut_answers: int  # queries whose answer no chunk holds whole


def excerpts_of(questions: QuestionSet, documents: dict[str, Document], units: CharUnits) -> Excerpts:
    """Each question's document index, answer spans and excerpt units (shared by every configuration)."""
    index = {doc_id: i for i, doc_id in enumerate(documents)}
    doc, spans, tokens = [], [], []
    for question in questions.questions:
        document = documents[question.doc_ids[0]]
        doc.append(index[document.id])
        spans.append(list(question.spans))
        ids = sorted({i for start, end in question.spans for i in units.ids(document.text, start, end)})
        tokens.append(np.array(ids, dtype=np.int64))
    return Excerpts(np.array(doc, dtype=np.int64), spans, tokens)


def chunk_table(chunks: list[Chunk], documents: dict[str, Document], units: CharUnits) -> ChunkTable:
    index = {doc_id: i for i, doc_id in enumerate(documents)}
    ranges = [units.ids(documents[c.doc_id].text, c.start, c.end) for c in chunks]
    return ChunkTable(np.array([index[c.doc_id] for c in chunks], dtype=np.int64),
                      np.array([c.start for c in chunks], dtype=np.int64),
                      np.array([c.end for c in chunks], dtype=np.int64),
                      np.array([r.start for r in ranges], dtype=np.int64),
                      np.array([r.stop for r in ranges], dtype=np.int64))


def chunked_corpus(name: str, chunks: list[Chunk], documents: dict[str, Document], questions: QuestionSet,
                   excerpts: Excerpts | None, units: CharUnits) -> ChunkedCorpus:
    """The task and table of one configuration (`excerpts`: None for document-level judgments)."""
    table = chunk_table(chunks, documents, units)
    ids = [c.id for c in chunks]
    corpus = {c.id: documents[c.doc_id].text[c.start:c.end] for c in chunks}
    qrels, cut = {}, 0
    by_doc: dict[int, list[int]] = {}
    for i, d in enumerate(table.doc.tolist()):
        by_doc.setdefault(d, []).append(i)
    doc_index = {doc_id: i for i, doc_id in enumerate(documents)}
    for q, question in enumerate(questions.questions):
        if excerpts is None:
            qrels[question.id] = {ids[i]: 1 for d in question.doc_ids for i in by_doc.get(doc_index[d], [])}
            continue
        own = np.array(by_doc.get(int(excerpts.doc[q]), []), dtype=np.int64)
        holds = own[holding(table, excerpts, q, own)]
        if holds.size:
            qrels[question.id] = {ids[i]: 1 for i in holds}
        else:
            cut += 1
            touching = own[(table.start[own] < max(e for _, e in excerpts.spans[q]))
                           & (table.end[own] > min(s for s, _ in excerpts.spans[q]))]
            qrels[question.id] = {ids[int((touching if touching.size else own)[0])]: 0}
    task = RetrievalTask(name, corpus, {q.id: q.query for q in questions.questions}, qrels, source=questions.source)
    return ChunkedCorpus(task, table, cut)


def source_hash(documents: dict[str, Document], questions: QuestionSet) -> str:
    """What every configuration is scored against (documents, questions, answers): the `data_hash` of its
    results, so `compare` pairs configurations (their chunk corpora differ by design)."""
    return content_hash([[(d.id, d.text) for d in documents.values()],
                         [(q.id, q.query, q.doc_ids, q.spans) for q in questions.questions], questions.level])
