from embedlab.tasks import RerankingTask, RerankRow


def test_texts_counts_and_fingerprint():
    rows = [RerankRow("a", "q1", ("p1",), ("n1", "n2")), RerankRow("b", "q2", ("p2", "p3"), ("n1",))]
    task = RerankingTask("t", rows, skipped={"no_negative": 2})
    assert task.texts("query") == ["q1", "q2"]
    assert task.texts("document") == ["p1", "n1", "n2", "p2", "p3", "n1"]  # candidates in row order
    assert task.counts() == {"rows": 2, "rows_skipped": 2, "skipped_no_negative": 2, "candidates": 6}
    same = RerankingTask("other name", list(rows), source="elsewhere")
    assert task.fingerprint() == same.fingerprint()  # the data, not its name or place
    swapped = RerankingTask("t", [RerankRow("a", "q1", ("n1",), ("p1", "n2")), rows[1]])
    assert swapped.fingerprint() != task.fingerprint()
