import numpy as np
import pytest

from embedlab.chunking.documents import make_document
from embedlab.chunking.questions import Question, QuestionSet
from embedlab.chunking.run import ChunkOptions, build_corpora, evaluate_chunking
from embedlab.chunking.splitters import grid
from embedlab.chunking.units import CharUnits
from embedlab.errors import EmbedlabError
from embedlab.results import Results
from embedlab.results.compare import compare

DOCS = {
    "tea": "绿茶要用八十度的水冲泡两分钟。红茶需要沸水。乌龙茶介于两者之间，可以冲泡多次。茶叶应该放在干燥的地方保存。",
    "bike": "自行车的内胎破了可以用补丁修补。洞太大时就换一条新内胎。打气之前检查气门芯。链条要定期上油。",
    "city": "上海是中国最大的城市之一。北京是首都，有很多博物馆。广州以美食闻名。深圳靠近香港。",
}
QUESTIONS = [("q1", "绿茶用多少度的水", "tea", "八十度"), ("q2", "内胎洞太大怎么办", "bike", "换一条新内胎"),
             ("q3", "哪个城市以美食闻名", "city", "广州"), ("q4", "链条怎么保养", "bike", "定期上油"),
             ("q5", "茶叶怎么保存", "tea", "放在干燥的地方")]


@pytest.fixture
def data():
    documents = {k: make_document(k, v, "docs.jsonl") for k, v in DOCS.items()}
    questions = [Question(qid, query, (doc,), ((DOCS[doc].index(a), DOCS[doc].index(a) + len(a)),))
                 for qid, query, doc, a in QUESTIONS]
    return documents, QuestionSet(questions, "span", "q.jsonl")


def test_one_run_per_model_and_configuration_and_every_text_encoded_once(data, fake_encoder):
    documents, questions = data
    options = ChunkOptions(grid(["tokens", "sentence", "semantic", "none"], [16, 24], [0, 4]), k=2, name="t/chunks")
    results = evaluate_chunking([fake_encoder, "bm25:char"], documents, questions, CharUnits(), options)
    assert len(results.runs) == 2 * len(options.configs)
    assert {r.tasks[0].data_hash for r in results.runs} == {results.runs[0].tasks[0].data_hash}
    labels = [r.model["chunking"]["label"] for r in results.runs[:len(options.configs)]]
    assert labels == [c.label() for c in options.configs] and results.runs[0].model["chunking"]["baseline"]
    assert results.runs[0].model["name"] == "fake-bigram [tokens-16]"
    # every distinct chunk text and sentence once, queries once
    from embedlab.chunking.corpus import excerpts_of
    from embedlab.chunking.semantic import SemanticBreaks
    from embedlab.embedding.store import EmbeddingStore
    from tests.conftest import FakeEncoder

    other = FakeEncoder()
    corpora = build_corpora(documents, questions, CharUnits(), options, excerpts_of(questions, documents, CharUnits()),
                            SemanticBreaks(EmbeddingStore(other, progress=False)))
    chunk_texts = {t for c in corpora.values() for t in c.task.corpus.values()}
    documents_encoded = [t for kind, batch in fake_encoder.calls if kind == "document" for t in batch]
    assert len(documents_encoded) == len(set(documents_encoded))
    assert set(documents_encoded) == chunk_texts | set(other.texts_encoded)
    assert sorted(t for kind, batch in fake_encoder.calls if kind == "query" for t in batch) == sorted(q[1] for q in QUESTIONS)
    shared = sum(len(c.task.corpus) for c in corpora.values()) - len(chunk_texts)
    assert shared > 0  # configurations share chunk texts ("none" and size 24 agree on short documents)
    result = results.runs[0].tasks[0]
    for name in ("span_recall@2", "span_precision@2", "span_iou@2", "answer_hit@2", "answer_rank", "ndcg@10",
                 "context_tokens@2"):
        assert len(result.per_query[name]) == 5
    assert result.main_score == "answer_hit@2" and result.counts["chunks"] == len(corpora[options.configs[0]].task.corpus)
    # compare, as `embedlab compare` does, pairs the configurations: same data, same queries
    assert len(compare(Results.from_json(results.to_json()))[0].rows) == len(results.runs)


def test_whole_documents_hold_every_answer(data, fake_encoder):
    documents, questions = data
    results = evaluate_chunking([fake_encoder], documents, questions, CharUnits(), ChunkOptions(grid(["none"], [], [0])))
    result = results.runs[0].tasks[0]
    assert result.counts["answers_cut"] == 0
    hits = np.array(result.per_query["answer_hit@5"])
    assert hits.tolist() == [1.0] * 5 and result.scores["span_recall@5"] == 1.0  # 3 documents, k=5: all retrieved


def test_document_level_questions(data, fake_encoder):
    documents, _ = data
    questions = QuestionSet([Question("q1", "绿茶", ("tea",), ()), Question("q2", "城市", ("city", "bike"), ())],
                            "document", "q.jsonl")
    results = evaluate_chunking([fake_encoder], documents, questions, CharUnits(),
                                ChunkOptions(grid(["sentence"], [16], [0]), k=1))
    result = results.runs[0].tasks[0]
    assert result.main_score == "ndcg@10" and "span_recall@1" not in result.scores
    assert "document_hit@1" in result.scores and results.runs[0].model["chunking"]["level"] == "document"


def test_semantic_needs_an_embedding_model(data):
    documents, questions = data
    with pytest.raises(EmbedlabError, match="semantic splitter needs an embedding model"):
        evaluate_chunking(["bm25"], documents, questions, CharUnits(), ChunkOptions(grid(["semantic"], [16], [0])))
