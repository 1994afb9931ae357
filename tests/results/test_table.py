"""The plain score table: cells, short model names, text and HTML rendering."""

from embedlab.results.results import ModelRun, Results, TaskResult
from embedlab.results.table import cells, html_table, plain_table, short_name


def task(name, scores, type_="retrieval"):
    return TaskResult(task=name, type=type_, source="", data_hash="sha256:x", main_score="ndcg@10",
                      scores=scores, query_ids=[], per_query={}, counts={}, timings={})


def results():
    a = ModelRun({"name": "BAAI/bge-small-zh-v1.5"}, {}, [task("t2", {"ndcg@10": 0.5, "map@10": 0.25}),
                                                          task("du<r>", {"ndcg@10": 0.125})])
    b = ModelRun({"name": "/runs/bge/checkpoint-40"}, {}, [task("t2", {"ndcg@10": 0.75, "map@10": 0.3})])
    return Results([a, b])


def test_short_name_keeps_hub_ids_and_cuts_paths_to_what_tells_them_apart():
    assert short_name("BAAI/bge-small-zh-v1.5") == "BAAI/bge-small-zh-v1.5"
    assert short_name("/runs/bge/checkpoint-40") == "bge/checkpoint-40"
    assert short_name("./runs/bge-t2/best") == "bge-t2/best"
    assert short_name("/home/me/models/my-model") == "my-model"


def test_cells_row_per_task_and_metric_in_the_type_order_with_a_dash_for_missing_scores():
    header, rows = cells(results())
    assert header == ["task", "metric", "BAAI/bge-small-zh-v1.5", "bge/checkpoint-40"]
    assert rows == [["t2", "ndcg@10", "50.00", "75.00"], ["t2", "map@10", "25.00", "30.00"],
                    ["du<r>", "ndcg@10", "12.50", "–"]]
    assert cells(results(), ["map@10"])[1] == [["t2", "map@10", "25.00", "30.00"]]


def test_reranking_metrics_get_their_readable_labels():
    run = ModelRun({"name": "m"}, {}, [task("r", {"v1.map": 0.5, "v1.mrr@10": 0.5}, "reranking")])
    assert [row[1] for row in cells(Results([run]))[1]] == ["MAP (C-MTEB v1)", "MRR@10 (C-MTEB v1)"]


def test_plain_table_aligns_names_left_and_scores_right():
    lines = plain_table(results()).splitlines()
    assert len(lines) == 4 and len({len(line) for line in lines}) == 1
    assert lines[3].startswith("du<r>  ndcg@10") and lines[3].endswith("  –")
    assert repr(results()) == plain_table(results())


def test_html_table_escapes_text():
    html = html_table(results())
    assert html.count("<tr>") == 4 and "du&lt;r&gt;" in html and "du<r>" not in html
    assert results()._repr_html_() == html
