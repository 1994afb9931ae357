from embedlab.chunking.documents import make_document
from embedlab.chunking.questions import Question, QuestionSet
from embedlab.chunking.run import ChunkOptions, evaluate_chunking
from embedlab.chunking.splitters import grid
from embedlab.chunking.units import CharUnits
from embedlab.results.chunks import chunk_summaries

TEXT = "绿茶要用八十度的水冲泡两分钟。红茶需要沸水。乌龙茶介于两者之间，可以冲泡多次。茶叶应该放在干燥的地方保存。"


def results(encoder):
    documents = {"d": make_document("d", TEXT, "x"), "e": make_document("e", "上海是大城市。北京是首都。", "x")}
    questions = QuestionSet([Question(f"q{i}", q, ("d",), ((TEXT.index(a), TEXT.index(a) + len(a)),))
                             for i, (q, a) in enumerate([("绿茶水温", "八十度"), ("怎么保存", "干燥的地方")])],
                            "span", "x")
    return evaluate_chunking([encoder], documents, questions, CharUnits(),
                             ChunkOptions(grid(["tokens", "none"], [16, 32], [0]), k=1, baseline="tokens-32"))


def test_summary_sorted_by_context_with_the_frontier_and_the_baseline(fake_encoder):
    summary, = chunk_summaries(results(fake_encoder), resamples=200)
    contexts = [r.context_tokens for r in summary.rows]
    assert contexts == sorted(contexts) and summary.metric == "answer_hit@1" and summary.k == 1
    assert summary.baseline == "fake-bigram [tokens-32]"
    assert [r.delta is None for r in summary.rows].count(True) == 1
    for row in summary.rows:  # frontier: nobody scores at least as high with no more context
        dominated = any(o.mean >= row.mean and o.context_tokens <= row.context_tokens
                        and (o.mean, o.context_tokens) != (row.mean, row.context_tokens) for o in summary.rows)
        assert row.frontier == (not dominated)
    assert summary.best in {r.name for r in summary.rows if r.mean == max(x.mean for x in summary.rows)}
