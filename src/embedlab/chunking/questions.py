"""Questions whose answers are located in the documents, read and checked before anything is encoded.

Two shapes:
- SQuAD / CMRC 2018 / DRCD JSON (`data[].paragraphs[].context`, `qas[].answers[].answer_start`): the file gives
  the documents too, one per paragraph, or one per article with `join=True` (paragraphs joined by a blank line,
  each answer's offset shifted by the text before its paragraph);
- JSONL `{query, doc_id, answers: [text | {start, end}]}` against documents read elsewhere; a text answer is
  located at its first occurrence in the document. Rows without `answers` (`doc_id` one id or a list) are
  document-level judgments: only document-level metrics apply then.

Every answer is checked against the text: the answer string must be at its offset, or the question is one
DataError naming the file, its line and the question (never a silent miss).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedlab.chunking.documents import Document, Normalised, make_document
from embedlab.data.records import id_field, read_json, read_jsonl, text_field
from embedlab.errors import DataError

PARAGRAPH_JOIN = "\n\n"
Span = tuple[int, int]  # [start, end) character offsets in the document as chunked


@dataclass(frozen=True)
class Question:
    id: str
    query: str
    doc_ids: tuple[str, ...]
    spans: tuple[Span, ...]  # in doc_ids[0]; empty for a document-level judgment
    source: str = ""
    line: int | None = None


@dataclass
class QuestionSet:
    questions: list[Question]
    level: str  # "span" (answers located) or "document" (judged documents only)
    source: str


def is_squad(path: str | Path) -> bool:
    """A SQuAD-shaped JSON file (by its suffix and top-level `data` list)."""
    path = Path(path)
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    data = read_json(path, what="SQuAD-format file", hint="give SQuAD / CMRC / DRCD JSON")
    return isinstance(data, dict) and isinstance(data.get("data"), list)


def read_squad(path: str | Path, *, join: bool = False) -> tuple[dict[str, Document], QuestionSet]:
    """Documents and questions of a SQuAD / CMRC / DRCD file (see the module docstring)."""
    path = Path(path)
    data = read_json(path, what="SQuAD-format file", hint="give SQuAD / CMRC / DRCD JSON")
    raw = path.read_text(encoding="utf-8")  # readable: read_json read it
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataError("not SQuAD-format JSON (no list 'data')", path=path, field="data")
    documents: dict[str, Document] = {}
    questions: list[Question] = []
    for a, article in enumerate(data["data"]):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise DataError(f"article {a + 1} has no list 'paragraphs'", path=path, line=_line_of(raw, a),
                            field="paragraphs")
        title = str(article.get("title") or f"article-{a + 1}")
        groups = [list(enumerate(paragraphs))] if join else [[(p, par)] for p, par in enumerate(paragraphs)]
        for group in groups:
            doc_id = _free_id(title if join else f"{title}#{group[0][0] + 1}", documents)
            texts, shifts, at = [], [], 0
            for _, paragraph in group:
                context = paragraph.get("context") if isinstance(paragraph, dict) else None
                if not isinstance(context, str):
                    raise DataError(f"a paragraph of '{title}' has no text", path=path, field="context")
                texts.append(context)
                shifts.append(at)
                at += len(context) + len(PARAGRAPH_JOIN)
            document = make_document(doc_id, PARAGRAPH_JOIN.join(texts), path, _line_of(raw, texts[0]))
            documents[doc_id] = document
            for (_, paragraph), context, shift in zip(group, texts, shifts):
                questions += [_squad_question(qa, document, context, shift, path, raw)
                              for qa in paragraph.get("qas") or []]
    return documents, QuestionSet(questions, "span", str(path))


def _squad_question(qa: Any, document: Document, context: str, shift: int, path: Path, raw: str) -> Question:
    if not isinstance(qa, dict):
        raise DataError("a question is not a JSON object", path=path, field="qas")
    qid = str(qa.get("id", ""))
    line = _line_of(raw, qid) if qid else None
    query = qa.get("question")
    if not qid or not isinstance(query, str) or not query.strip():
        raise DataError(f"question '{qid}' has no id or no question text", path=path, line=line, field="question")
    answers = qa.get("answers")
    if not isinstance(answers, list) or not answers:
        raise DataError(f"question '{qid}' has no answers", path=path, line=line, field="answers",
                        hint="a question without a located answer cannot score chunks")
    spans = []
    for i, answer in enumerate(answers):
        text, start = (answer.get("text"), answer.get("answer_start")) if isinstance(answer, dict) else (None, None)
        if not isinstance(text, str) or not text or isinstance(start, bool) or not isinstance(start, int):
            raise DataError(f"question '{qid}': answer {i + 1} needs a 'text' and an integer 'answer_start'",
                            path=path, line=line, field="answers")
        found = context[start:start + len(text)] if start >= 0 else ""
        if found != text:
            raise DataError(f"question '{qid}': answer {i + 1} {text!r} is not at answer_start {start} (the text "
                            f"there is {found!r})", path=path, line=line, field="answer_start",
                            hint="answer_start counts characters of the paragraph's context from 0")
        spans.append(_mapped(document, shift + start, shift + start + len(text)))
    return Question(qid, query, (document.id,), tuple(dict.fromkeys(spans)), str(path), line)


def read_questions(path: str | Path, documents: dict[str, Document]) -> QuestionSet:
    """Questions of a JSONL file against `documents` (see the module docstring)."""
    path = Path(path)
    questions, levels = [], set()
    for source, line, record in read_jsonl(path):
        qid = id_field(record, ("_id", "id", "query_id"), path=source, line=line) \
            if any(k in record for k in ("_id", "id", "query_id")) else f"q{line}"
        query = text_field(record, ("query", "question"), path=source, line=line)
        doc_ids = _doc_ids(record, documents, source, line)
        level = "span" if record.get("answers") is not None else "document"
        levels.add(level)
        if len(levels) > 1:
            raise DataError("some questions have 'answers' and some do not", path=source, line=line,
                            field="answers", hint="give answers for every question, or for none (document-level)")
        spans = _located(record["answers"], documents[doc_ids[0]], qid, source, line) if level == "span" else ()
        questions.append(Question(qid, query, doc_ids, spans, str(source), line))
    if not questions:
        raise DataError("no questions", path=path)
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        twice = next(q for i, q in enumerate(questions) if q.id in ids[:i])
        raise DataError(f"question id '{twice.id}' occurs twice", path=path, line=twice.line, field="id")
    return QuestionSet(questions, levels.pop(), str(path))


def _doc_ids(record: dict, documents: dict[str, Document], path: Path, line: int) -> tuple[str, ...]:
    key = "doc_ids" if "doc_ids" in record else "doc_id"
    value = record.get(key)
    ids = value if isinstance(value, list) else [value]
    if not ids or not all(isinstance(d, (str, int)) and not isinstance(d, bool) for d in ids):
        raise DataError("expected a document id (or a list of them)", path=path, line=line, field=key)
    ids = [str(d) for d in ids]
    for doc_id in ids:
        if doc_id not in documents:
            raise DataError(f"document '{doc_id}' is not among the {len(documents):,} documents", path=path,
                            line=line, field=key, hint=f"document ids look like '{next(iter(documents))}'")
    if "answers" in record and record["answers"] is not None and len(ids) != 1:
        raise DataError("answers are located in one document: give one doc_id", path=path, line=line, field=key)
    return tuple(ids)


def _located(answers: Any, document: Document, qid: str, path: Path, line: int) -> tuple[Span, ...]:
    if not isinstance(answers, list) or not answers:
        raise DataError("expected a non-empty list of answers (a text, or {start, end})", path=path, line=line,
                        field="answers")
    spans = []
    for i, answer in enumerate(answers):
        if isinstance(answer, str) and answer:
            at = document.text.find(Normalised.of(answer).text)
            if at < 0:
                raise DataError(f"question '{qid}': answer {i + 1} {answer!r} is not in document '{document.id}'",
                                path=path, line=line, field="answers")
            spans.append((at, at + len(Normalised.of(answer).text)))
        elif isinstance(answer, dict) and _is_span(answer, document):
            spans.append(_mapped(document, answer["start"], answer["end"]))
        else:
            raise DataError(f"question '{qid}': answer {i + 1} is neither a text found in document '{document.id}' "
                            f"nor a {{start, end}} span inside it (0 <= start < end <= length)", path=path,
                            line=line, field="answers")
        if "text" in (answer if isinstance(answer, dict) else {}):
            _check_text(answer, document, qid, i, path, line)
    return tuple(dict.fromkeys(spans))


def _is_span(answer: dict, document: Document) -> bool:
    start, end = answer.get("start"), answer.get("end")
    length = len(document.original.kept) - 1 if document.original else len(document.text)
    return all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) and 0 <= start < end <= length


def _check_text(answer: dict, document: Document, qid: str, i: int, path: Path, line: int) -> None:
    start, end = _mapped(document, answer["start"], answer["end"])
    if document.text[start:end] != Normalised.of(str(answer["text"])).text:
        raise DataError(f"question '{qid}': answer {i + 1} {answer['text']!r} is not at {answer['start']}:"
                        f"{answer['end']} (the text there is {document.text[start:end]!r})", path=path, line=line,
                        field="answers")


def _mapped(document: Document, start: int, end: int) -> Span:
    return document.offset(start), document.offset(end)


def _free_id(wanted: str, taken: dict[str, Document]) -> str:
    doc_id, n = wanted, 1
    while doc_id in taken:
        n += 1
        doc_id = f"{wanted}~{n}"
    return doc_id


def _line_of(raw: str, needle: Any) -> int | None:
    """The 1-based line of a JSON file where `needle` (a string value) first appears, for error messages."""
    if not isinstance(needle, str):
        return None
    for form in (json.dumps(needle, ensure_ascii=False), json.dumps(needle)):
        at = raw.find(form)
        if at >= 0:
            return raw.count("\n", 0, at) + 1
    return None
