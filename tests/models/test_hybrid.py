"""Hybrid models: specs and settings, one-line errors, names by settings, fusion through `evaluate` on reranking
and retrieval with encoders and a ranker, weights 1,0 = the first model, paid parts, and (slow) mteb's own
HybridSearch giving the same scores."""

from __future__ import annotations

import re

import numpy as np
import pytest

import embedlab
from embedlab.errors import EmbedlabError, ModelError, UnknownNameError
from embedlab.models import registry
from embedlab.models.base import ModelOptions, Ranker
from embedlab.models.hybrid import Hybrid, parse_weights, split_spec, weight_grid
from embedlab.run.evaluation import RunOptions
from embedlab.search.fusion import METHODS
from tests.conftest import FakeEncoder
from tests.models.test_registry import PaidPlugin, plugins  # noqa: F401 - the fixture


class WordOverlap(Ranker):
    """Words shared by query and document; ties go to the higher document id (trec's order), as BM25 would."""

    name = "word-overlap"

    def __init__(self) -> None:
        self.calls = 0
        self.closed = False

    def rank(self, queries, corpus, depth):
        self.calls += 1
        ids = list(corpus)
        tie_rank = np.empty(len(ids), dtype=np.int64)
        tie_rank[np.argsort(np.array(ids, dtype=object), kind="stable")] = np.arange(len(ids))
        words = [set(text.lower().split()) for text in corpus.values()]
        scores = np.array([[len(set(q.lower().split()) & w) for w in words] for q in queries.values()],
                          dtype=np.float32)
        order = np.lexsort((-np.broadcast_to(tie_rank, scores.shape), -scores), axis=1)[:, :depth]
        return order, np.take_along_axis(scores, order, axis=1)

    def close(self):
        self.closed = True


def prefixed() -> FakeEncoder:
    encoder = FakeEncoder("find: ")
    encoder.name = "fake-prefixed"
    return encoder


def test_specs_split_on_plus_and_a_double_plus_is_part_of_a_name():
    assert split_spec("st:BAAI/bge-small-zh-v1.5+bm25:") == ["st:BAAI/bge-small-zh-v1.5", "bm25:"]
    assert split_spec("./runs/a++b+openai:m") == ["./runs/a+b", "openai:m"]


def test_the_sweep_grid():
    two, three, four = weight_grid(2), weight_grid(3), weight_grid(4)
    assert two[0] == (0.0, 1.0) and two[-1] == (1.0, 0.0) and (0.5, 0.5) in two and len(two) == 11
    assert len(three) == 66 + 1 and three[-1] == (1 / 3,) * 3  # the equal weights are not on the 0.1 grid
    assert len(four) == 35 and (0.25,) * 4 in four
    assert all(abs(sum(w) - 1) < 1e-12 for w in two + three + four)


@pytest.mark.parametrize(("spec", "options", "message"), [
    ("st:x", {}, "hybrid:st:x names 1 model; a hybrid fuses two or more"),
    ("st:x+", {}, "has an empty model name"),
    ("st:x+st:y", {"weights": "1,2,3"}, "fuses 2 models but --weights gives 3 (1,2,3): give one weight per model"),
    ("st:x+st:y", {"weights": "a,b"}, "give numbers separated by commas"),
    ("st:x+st:y", {"weights": "1,-1"}, "must be non-negative numbers"),
    ("st:x+st:y", {"weights": "0,0"}, "not all 0"),
    ("st:x+hybrid:a", {}, "a hybrid inside a hybrid is not supported"),
    ("st:x+st:y", {"rrf_k": -1}, "--rrf-k -1"),
    ("st:x+nope:y", {}, "unknown model backend 'nope'"),
])
def test_bad_specs_fail_in_one_line_before_any_model_loads(spec, options, message):
    with pytest.raises(EmbedlabError, match=re.escape(message)) as caught:
        registry.is_paid(f"hybrid:{spec}", ModelOptions(**options))
    assert "\n" not in str(caught.value)
    with pytest.raises(EmbedlabError, match=re.escape(message)):
        registry.load_model(f"hybrid:{spec}", ModelOptions(**options))


def test_unknown_fusion_names_the_known_ones():
    with pytest.raises(UnknownNameError, match="unknown fusion 'dsbf'; did you mean 'dbsf'"):
        Hybrid([FakeEncoder(), prefixed()], fusion="dsbf")
    with pytest.raises(ModelError, match="fuses 2 models but --weights gives 1"):
        Hybrid([FakeEncoder(), prefixed()], weights=(1,))


def test_the_cli_refuses_bad_hybrids_in_one_line(tmp_path):
    from click.testing import CliRunner

    from embedlab.cli.main import cli

    def run(*args):
        return CliRunner().invoke(cli, ["eval", "--demo", "-q", "-o", str(tmp_path / "r.json"), *args])

    one = run("-m", "hybrid:st:x")
    assert one.exit_code == 2 and one.output.strip().splitlines() == [
        "error: hybrid:st:x names 1 model; a hybrid fuses two or more: hybrid:A+B (a '+' inside a name is "
        "written '++')"]
    count = run("-m", "hybrid:st:x+st:y", "--weights", "0.5,0.3,0.2")
    assert count.exit_code == 2 and "fuses 2 models but --weights gives 3" in count.output
    fusion = run("-m", "hybrid:st:x+st:y", "--fusion", "max")
    assert fusion.exit_code == 2 and "'max' is not one of 'rrf', 'dbsf', 'rsf'" in fusion.output
    assert not (tmp_path / "r.json").exists()


def test_a_hybrid_of_encoders_and_a_ranker_is_a_model_run_named_by_its_settings(rerank_file, retrieval_dir):
    ranker = WordOverlap()
    models = [Hybrid([FakeEncoder(), prefixed(), ranker]),
              Hybrid([FakeEncoder(), ranker], fusion="dbsf", weights=(0.2, 0.8), rrf_k=10, depth=3),
              Hybrid([FakeEncoder(), ranker], rrf_k=10)]
    results = embedlab.evaluate(models, [rerank_file, retrieval_dir])
    names = [run.model["name"] for run in results.runs]
    assert names == ["hybrid-rrf:fake-bigram+fake-prefixed+word-overlap",
                     "hybrid-dbsf(w=0.2,0.8 depth=3):fake-bigram+word-overlap",
                     "hybrid-rrf(k=10):fake-bigram+word-overlap"]
    info = results.runs[1].model
    assert info["fusion"] == "dbsf" and info["weights"] == [0.2, 0.8] and info["fusion_depth"] == 3
    assert [m["name"] for m in info["models"]] == ["fake-bigram", "word-overlap"] and "rrf_k" not in info
    assert results.runs[0].model["weights"] == pytest.approx([1 / 3] * 3)
    assert results.runs[0].model["fusion_depth"] == "max(100, evaluation depth)"
    for run in results.runs:
        rerank, retrieval = run.tasks
        assert 0 < rerank.scores["v1.map"] <= 1 and 0 < retrieval.scores["ndcg@10"] <= 1
        assert run.embedding["texts_encoded"] > 0 and run.model["dimension"] is None


@pytest.mark.parametrize("fusion", METHODS)
def test_weights_1_0_give_the_first_model_exactly(fusion, rerank_file, retrieval_dir):
    alone = embedlab.evaluate([FakeEncoder(), WordOverlap()], [rerank_file, retrieval_dir])
    fused = embedlab.evaluate([Hybrid([FakeEncoder(), WordOverlap()], fusion=fusion, weights=(1, 0)),
                               Hybrid([WordOverlap(), prefixed()], fusion=fusion, weights="1,0")],
                              [rerank_file, retrieval_dir])
    encoder, ranker = alone.runs
    assert fused.runs[0].tasks[0].per_query == encoder.tasks[0].per_query
    assert fused.runs[0].tasks[1].per_query == encoder.tasks[1].per_query
    # the ranker's tied candidates: mteb 2 orders them by id, as the fusion does (C-MTEB v1 keeps its own order)
    for name, values in ranker.tasks[0].per_query.items():
        assert name.startswith("v1.") or fused.runs[1].tasks[0].per_query[name] == values, name
    assert fused.runs[1].tasks[1].per_query == ranker.tasks[1].per_query


def test_a_hybrid_closes_the_models_it_loaded_only(monkeypatch):
    given, loaded = WordOverlap(), WordOverlap()
    monkeypatch.setattr("embedlab.models.hybrid.load_model", lambda spec, options: loaded)
    hybrid = Hybrid([given, "anything"])
    assert hybrid.parts() == [given, loaded] and not hybrid.paid
    hybrid.with_weights((1, 0)).close()
    assert not loaded.closed
    hybrid.close()
    assert loaded.closed and not given.closed


def test_a_hybrid_with_paid_parts_is_estimated_as_their_sum_before_anything_is_sent(plugins, rerank_file):  # noqa: F811
    assert registry.is_paid("hybrid:paidplug:a+paidplug:b") and not registry.is_paid("hybrid:st:x+st:y")
    lines = []
    with pytest.raises(EmbedlabError, match="not within --max-cost 0.0001; nothing was sent"):
        embedlab.evaluate("hybrid:paidplug:a+paidplug:b", rerank_file,
                          run=RunOptions(max_cost=0.0001, cache=False, announce=lines.append))
    assert PaidPlugin.encoded == [] and lines[0].startswith("estimate: hybrid-rrf:paidplug:a+paidplug:b: ")
    tasks = embedlab.run.evaluation.load_tasks([rerank_file])
    single, = embedlab.run.estimate.estimate(["paidplug:a"], tasks, cache=False)
    both, = embedlab.run.estimate.estimate(["hybrid:paidplug:a+paidplug:b"], tasks, cache=False)
    assert both["tokens"] == 2 * single["tokens"] and both["cost"] == pytest.approx(2 * single["cost"])
    assert both["currency"] == single["currency"] == "USD"


@pytest.mark.slow
def test_mteb_hybrid_search_gives_our_numbers(tmp_path):
    mteb = pytest.importorskip("mteb")
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper
    from sentence_transformers import SentenceTransformer

    from embedlab.data import load_reranking, load_retrieval
    from embedlab.demo import RERANKING, RETRIEVAL, default_model
    from embedlab.tasks.mteb import to_mteb
    from tests.conftest import make_tiny_model

    tiny = make_tiny_model(tmp_path, dropout=0.0)
    rerank, retrieval = load_reranking(RERANKING), load_retrieval(RETRIEVAL)
    for fusion in METHODS:
        ours = embedlab.evaluate(Hybrid([default_model(), str(tiny)], fusion=fusion, weights=(0.7, 0.3)),
                                 [rerank, retrieval])
        ours_rerank, ours_retrieval = ours.runs[0].tasks
        models = [SentenceTransformerEncoderWrapper(SentenceTransformer(path, device="cpu"))
                  for path in (default_model(), str(tiny))]
        search = mteb.HybridSearch(models, weights=[0.7, 0.3], fusion_strategy=fusion)
        result = mteb.evaluate(search, [to_mteb(rerank, "R"), to_mteb(retrieval, "Q")], cache=None,
                               show_progress_bar=False)
        scores = {r.task_name: r.scores["test"][0] for r in result.task_results}
        for theirs, mine in [("map_at_1000", "v2.map@1000"), ("mrr_at_10", "v2.mrr@10"), ("ndcg_at_10", "v2.ndcg@10")]:
            assert scores["R"][theirs] == pytest.approx(ours_rerank.scores[mine], abs=1e-5), (fusion, mine)
        for k in (1, 10, 100, 1000):
            for theirs, mine in [("ndcg_at", "ndcg"), ("map_at", "map"), ("recall_at", "recall")]:
                assert scores["Q"][f"{theirs}_{k}"] == pytest.approx(ours_retrieval.scores[f"{mine}@{k}"], abs=1e-5)


def test_a_pair_scorer_fuses_on_reranking_rows_only(rerank_file, retrieval_dir):
    from embedlab.run.evaluation import IncompleteRun
    from tests.scorers.test_kinds import CosinePairs

    results = embedlab.evaluate(Hybrid([WordOverlap(), CosinePairs()], fusion="rsf"), [rerank_file])
    assert 0 < results.runs[0].tasks[0].scores["v1.map"] <= 1
    with pytest.raises(IncompleteRun, match="cannot search a corpus"):
        embedlab.evaluate(Hybrid([WordOverlap(), CosinePairs()]), [retrieval_dir])


@pytest.mark.parametrize("weights", ["1e308,1e308", "nan,1", "inf,1", "2e6,1"])
def test_weights_that_are_not_finite_or_absurd_are_refused(weights):
    """Issue 24, item 11: 1e308,1e308 overflowed the fused scores (every document tied at inf)."""
    with pytest.raises(ModelError, match="weights must be non-negative numbers up to 1e"):
        parse_weights(weights, 2, "a+b")
    assert parse_weights("7,3", 2, "a+b") == (7.0, 3.0)
