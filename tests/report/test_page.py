import re

from embedlab import evaluate
from embedlab.demo import RERANKING, RETRIEVAL
from embedlab.report.page import build
from embedlab.results.compare import compare
from embedlab.results.curve import Curve
from tests.cli.test_main import run
from tests.conftest import FakeEncoder


def _two_runs():
    other = FakeEncoder(query_prefix="zz ")
    other.name = "fake-with-prefix"
    return [evaluate(FakeEncoder(), [RERANKING, RETRIEVAL]), evaluate(other, [RERANKING, RETRIEVAL])]


def _curve():
    health = {"mean_pairwise_cosine": 0.2, "score_spread": 0.1, "effective_rank": 30.0}
    points = [{"step": s, "scores": {"test": {"v1.map": v}}, "per_query": {"test": q}, "health": health,
               "warnings": []} for s, v, q in ((0, 0.5, [0.4, 0.6]), (10, 0.75, [0.7, 0.8]))]
    return Curve("test/v1.map", {"test": {"main": "v1.map", "role": "test"}}, points,
                 [{"step": 5, "loss": 2.0}])


def test_page_is_self_contained_and_shows_the_numbers():
    runs = _two_runs()
    page, markdown = build(runs, curves=[_curve()])
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page)  # nothing fetched from the network
    assert page.count("data:image/png;base64,") == 2 * 3 + 1  # bars, distributions, wins per task; curve
    for c in compare(runs):
        for row in c.rows:
            assert f"{100 * row.mean:.2f}" in page and f"{100 * row.mean:.2f}" in markdown
        assert f"{100 * c.rows[1].delta.mean:+.2f}" in page
    assert "base 0.5000 → best 0.7500 at step 10" in page and "Fine-tuning curve: test/v1.map" in markdown


def test_report_command(tmp_path):
    for index, results in enumerate(_two_runs()):
        results.to_json(tmp_path / f"r{index}.json")
    out = run("report", str(tmp_path / "r0.json"), str(tmp_path / "r1.json"), "-o", str(tmp_path / "r.html"),
              "-o", "-")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# embedlab report") and "| fake-with-prefix |" in out.stdout
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    assert run("report", str(tmp_path / "r0.json")).returncode == 2  # no output asked for


def test_api_cost_per_thousand_queries_from_billed_tokens():
    runs = _two_runs()
    api = runs[1].runs[0].model
    api.update(name="openai:text-embedding-3-small", model="text-embedding-3-small",
               usage={"requests": 3, "retries": 0, "prompt_tokens": 2_000_000})
    queries = sum(len(t.query_ids) for t in runs[1].runs[0].tasks)
    _, markdown = build(runs)
    assert f"{2 * 0.02 * 1000 / queries:.4f} USD" in markdown  # 2M tokens at 0.02 USD per million
    assert "| fake-bigram |" in markdown and markdown.count(" – |") >= 2  # local model: no API cost


def test_a_custom_endpoint_is_priced_from_the_recorded_or_given_price_and_encode_time_is_per_task():
    runs = _two_runs()
    api = runs[1].runs[0].model
    api.update(name="openai:my-model", model="my-model", usage={"requests": 3, "retries": 0, "prompt_tokens": 1_000_000})
    queries = sum(len(t.query_ids) for t in runs[1].runs[0].tasks)
    _, unpriced = build(runs)
    assert f"{1000 / queries:.4f}" not in unpriced  # unknown model, no price: no cost
    _, given = build(runs, price_per_mtok=1.0)
    assert f"{1.0 * 1000 / queries:.4f}" in given
    api["price_per_mtok"] = 3.0  # recorded by `eval --price-per-mtok 3`
    _, recorded = build(runs, price_per_mtok=1.0)
    assert f"{3.0 * 1000 / queries:.4f}" in recorded
    rerank, retrieval = runs[0].runs[0].tasks
    rerank.timings["encode_seconds"], retrieval.timings["encode_seconds"] = 12.34, 56.78
    _, markdown = build(runs)
    sections = markdown.split("## ")
    assert "| 12.3 |" in next(s for s in sections if s.startswith(rerank.task))
    assert "| 56.8 |" in next(s for s in sections if s.startswith(retrieval.task))


def test_a_paid_models_price_is_recorded_in_the_results(rerank_file):
    from embedlab.models.base import Encoder
    from embedlab.run.evaluation import RunOptions

    class Paid(FakeEncoder):
        paid = True

    results = evaluate([Paid(), FakeEncoder()], rerank_file, run=RunOptions(price_per_mtok=0.5, cache=False))
    assert results.runs[0].model["price_per_mtok"] == 0.5 and "price_per_mtok" not in results.runs[1].model
    assert issubclass(Paid, Encoder)


def test_a_sampled_task_says_so_under_its_table(tmp_path):
    from embedlab.run.options import RunOptions

    results = evaluate(FakeEncoder(), [RETRIEVAL], run=RunOptions(sample=5, seed=1, prune_corpus=2))
    page, markdown = build([results])
    words = "a seeded sample of 5 of 28 (seed 1), corpus pruned to their judged documents + 2 others"
    assert words in page and words in markdown
