import json

import pytest

from embedlab.chunking.documents import read_documents
from embedlab.chunking.questions import is_squad, read_questions, read_squad
from embedlab.errors import DataError

SQUAD = {"version": "1.1", "data": [
    {"title": "球队", "paragraphs": [
        {"context": "黑豹队只丢了308分。", "qas": [
            {"id": "q1", "question": "丢了多少分？", "answers": [{"text": "308", "answer_start": 6}]}]},
        {"context": "教练叫里维拉，\r\n他很严格。", "qas": [
            {"id": "q2", "question": "教练是谁？", "answers": [{"text": "里维拉", "answer_start": 3}]},
            {"id": "q3", "question": "他怎样？", "answers": [{"text": "严格", "answer_start": 11}]}]}]},
    {"title": "城市", "paragraphs": [
        {"context": "上海是大城市。", "qas": [
            {"id": "q4", "question": "哪个城市？", "answers": [{"text": "上海", "answer_start": 0}]}]}]}]}


def write(tmp_path, data, name="squad.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


@pytest.mark.parametrize("join", [False, True])
def test_squad_spans_survive_joining_and_normalisation(tmp_path, join):
    path = write(tmp_path, SQUAD)
    assert is_squad(path)
    documents, questions = read_squad(path, join=join)
    assert len(documents) == (2 if join else 3) and questions.level == "span"
    for question, answer in zip(questions.questions, ["308", "里维拉", "严格", "上海"]):
        (start, end), = question.spans
        assert documents[question.doc_ids[0]].text[start:end] == answer
    if join:
        assert "\r" not in documents["球队"].text and documents["球队"].text.count("\n\n") == 1


def test_an_answer_not_at_its_offset_is_one_line_naming_the_question(tmp_path):
    data = json.loads(json.dumps(SQUAD))
    data["data"][0]["paragraphs"][1]["qas"][1]["answers"][0]["answer_start"] = 10
    path = write(tmp_path, data)
    with pytest.raises(DataError) as error:
        read_squad(path, join=True)
    message = str(error.value)
    assert "question 'q3'" in message and "'严格' is not at answer_start 10" in message
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if '"q3"' in text)
    assert f"squad.json:{line}:" in message and "\n" not in message


def test_jsonl_questions_text_and_span_answers(tmp_path):
    (tmp_path / "d.jsonl").write_text('{"id": "a", "text": "门票涨到了3.14倍。\\r\\n价格很高。"}\n', encoding="utf-8")
    documents = read_documents([tmp_path / "d.jsonl"])
    rows = [{"query": "涨了多少", "doc_id": "a", "answers": ["3.14倍"]},
            {"id": "x", "query": "价格怎样", "doc_id": "a", "answers": [{"start": 15, "end": 17, "text": "很高"}]}]
    (tmp_path / "q.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    questions = read_questions(tmp_path / "q.jsonl", documents)
    text = documents["a"].text
    assert [text[s:e] for q in questions.questions for s, e in q.spans] == ["3.14倍", "很高"]
    assert [q.id for q in questions.questions] == ["q1", "x"]


@pytest.mark.parametrize("row, message", [
    ({"query": "q", "doc_id": "missing", "answers": ["门票"]}, "q.jsonl:1: field 'doc_id': document 'missing' is not"),
    ({"query": "q", "doc_id": "a", "answers": ["不存在"]}, "answer 1 '不存在' is not in document 'a'"),
    ({"query": "q", "doc_id": "a", "answers": [{"start": 0, "end": 2, "text": "价格"}]}, "is not at 0:2"),
    ({"query": "q", "doc_id": "a", "answers": [{"start": 5, "end": 99}]}, "nor a {start, end} span inside it"),
])
def test_bad_questions(tmp_path, row, message):
    (tmp_path / "d.jsonl").write_text('{"id": "a", "text": "门票涨到了3.14倍。"}\n', encoding="utf-8")
    documents = read_documents([tmp_path / "d.jsonl"])
    (tmp_path / "q.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message.replace("{", r"\{").replace("}", r"\}")):
        read_questions(tmp_path / "q.jsonl", documents)


def test_document_level_judgments(tmp_path):
    (tmp_path / "d.jsonl").write_text('{"id": "a", "text": "一"}\n{"id": "b", "text": "二"}\n', encoding="utf-8")
    documents = read_documents([tmp_path / "d.jsonl"])
    (tmp_path / "q.jsonl").write_text('{"query": "x", "doc_ids": ["a", "b"]}\n{"query": "y", "doc_id": "b"}\n',
                                      encoding="utf-8")
    questions = read_questions(tmp_path / "q.jsonl", documents)
    assert questions.level == "document" and questions.questions[0].doc_ids == ("a", "b")
    (tmp_path / "m.jsonl").write_text('{"query": "x", "doc_id": "a"}\n{"query": "y", "doc_id": "b", "answers": ["二"]}\n',
                                      encoding="utf-8")
    with pytest.raises(DataError, match="m.jsonl:2: field 'answers': some questions have"):
        read_questions(tmp_path / "m.jsonl", documents)


@pytest.mark.parametrize("join", [False, True])
def test_the_bundled_demo_questions_are_squad_with_every_answer_at_its_offset(join):
    """`embedlab chunks` runs on a fresh clone (issue 30, item 10: the README's chunks example needed ../shared/data)."""
    from embedlab.demo import QUESTIONS

    assert is_squad(QUESTIONS)
    documents, questions = read_squad(QUESTIONS, join=join)
    assert len(documents) == (3 if join else 9) and len(questions.questions) == 18 and questions.level == "span"
    raw = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    answers = [qa["answers"][0]["text"] for article in raw["data"] for p in article["paragraphs"] for qa in p["qas"]]
    found = [documents[q.doc_ids[0]].text[start:end] for q in questions.questions for start, end in q.spans]
    assert found == answers
