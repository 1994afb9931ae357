from embedlab.tasks import RetrievalTask


def test_texts_counts_and_fingerprint():
    task = RetrievalTask("t", {"d1": "green tea", "d2": "black tea"}, {"q1": "tea?"}, {"q1": {"d1": 1, "d2": 0}},
                         skipped={"no_judgments": 3})
    assert task.texts("document") == ["green tea", "black tea"] and task.texts("query") == ["tea?"]
    assert task.counts() == {"queries": 1, "queries_skipped": 3, "skipped_no_judgments": 3, "documents": 2,
                             "judgments": 2, "queries_without_relevant": 0}
    reordered = RetrievalTask("t", {"d2": "black tea", "d1": "green tea"}, {"q1": "tea?"}, {"q1": {"d2": 0, "d1": 1}})
    assert reordered.fingerprint() == task.fingerprint()
    regraded = RetrievalTask("t", task.corpus, task.queries, {"q1": {"d1": 2, "d2": 0}})
    assert regraded.fingerprint() != task.fingerprint()


def test_queries_judged_only_not_relevant_are_counted():
    task = RetrievalTask("t", {"d1": "a", "d2": "b"}, {"q1": "x", "q2": "y"}, {"q1": {"d1": 1}, "q2": {"d2": 0}})
    assert task.counts()["queries_without_relevant"] == 1
