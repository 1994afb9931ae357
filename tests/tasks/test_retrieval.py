from embedlab.tasks import RetrievalTask


def test_texts_counts_and_fingerprint():
    task = RetrievalTask("t", {"d1": "green tea", "d2": "black tea"}, {"q1": "tea?"}, {"q1": {"d1": 1, "d2": 0}},
                         skipped={"no_judgments": 3})
    assert task.texts("document") == ["green tea", "black tea"] and task.texts("query") == ["tea?"]
    assert task.counts() == {"queries": 1, "queries_skipped": 3, "skipped_no_judgments": 3, "documents": 2,
                             "judgments": 2}
    reordered = RetrievalTask("t", {"d2": "black tea", "d1": "green tea"}, {"q1": "tea?"}, {"q1": {"d2": 0, "d1": 1}})
    assert reordered.fingerprint() == task.fingerprint()
    regraded = RetrievalTask("t", task.corpus, task.queries, {"q1": {"d1": 2, "d2": 0}})
    assert regraded.fingerprint() != task.fingerprint()
