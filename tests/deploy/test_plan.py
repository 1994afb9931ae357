"""`deploy_sweep`: one encoding, every variant scored with eval's code. Exact variants give eval's numbers on
the same vectors (truncation computed the slow way: a model that outputs fewer dimensions, through `evaluate`);
the results are read by compare and leaderboard unchanged; prompt variants re-encode queries only."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab import demo, evaluate
from embedlab.deploy import DeployOptions, deploy_sweep
from embedlab.errors import EmbedlabError, ModelError
from embedlab.results import Results
from embedlab.results.compare import compare
from embedlab.results.leaderboard import leaderboard
from embedlab.run.evaluation import RunOptions
from tests.conftest import FakeEncoder


class Truncated(FakeEncoder):
    """The fake encoder's first `width` dimensions: truncation the slow way."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.full = FakeEncoder()
        self.width = self.dimension = width
        self.name = f"fake-{width}"

    def encode(self, texts, kind="document"):
        return self.full.encode(texts, kind)[:, : self.width]


TASKS = [demo.RERANKING, demo.RETRIEVAL]


def test_exact_variants_equal_eval_on_the_same_vectors():
    encoder = FakeEncoder()
    results = deploy_sweep(encoder, TASKS, deploy=DeployOptions(dims=(64, 48, 32), precisions=("float32",)))
    assert [run.model["name"] for run in results.runs] == [
        "fake-bigram @64 float32 exact", "fake-bigram @48 float32 exact", "fake-bigram @32 float32 exact"]
    assert len(encoder.texts_encoded) == len(set(encoder.texts_encoded))  # every text once, whatever the variants
    for run in results.runs:
        width = run.model["deploy"]["dimension"]
        slow = evaluate(Truncated(width), TASKS).runs[0]
        for ours, theirs in zip(run.tasks, slow.tasks):
            assert ours.task == theirs.task and ours.query_ids == theirs.query_ids
            for metric, values in theirs.per_query.items():
                np.testing.assert_allclose(ours.per_query[metric], values, rtol=0, atol=1e-9, err_msg=metric)


def test_approximate_indexes_run_on_retrieval_with_their_costs():
    pytest.importorskip("faiss")
    results = deploy_sweep(FakeEncoder(), TASKS, deploy=DeployOptions(
        dims=(64, 32), precisions=("float32", "binary+rescore"), indexes=("exact", "hnsw", "ivf")))
    hnsw = next(run for run in results.runs if run.model["name"] == "fake-bigram @32 binary+rescore hnsw")
    assert [t.task for t in hnsw.tasks] == ["demo/retrieval"]  # reranking rows are not searched
    result = hnsw.tasks[0]
    assert 0 <= result.scores["neighbour_recall@10"] <= 1 and len(result.per_query["neighbour_recall@10"]) == 28
    assert result.counts["index_bytes"] > 0 and result.timings["ms_per_query_single"] > 0
    assert hnsw.model["deploy"]["bytes_per_vector"] == 4
    exact = results.runs[0].tasks[1]
    assert exact.counts["index_bytes"] == 80 * 64 * 4 and "neighbour_recall@10" not in exact.scores


def test_results_are_read_by_compare_and_leaderboard(tmp_path):
    results = deploy_sweep(FakeEncoder(), TASKS, deploy=DeployOptions(dims=(64, 16), precisions=("float32", "int8")))
    path = tmp_path / "sweep.json"
    results.to_json(path)
    again = Results.from_json(path)
    comparisons = compare(again)
    assert [c.task for c in comparisons] == ["demo/reranking", "demo/retrieval"]
    assert len(comparisons[0].rows) == 4 and comparisons[0].baseline == "fake-bigram @64 float32 exact"
    board = leaderboard(tmp_path)
    assert len(board.rows) == 4


class Prompted(FakeEncoder):
    """A fake model that configures a query prompt, loadable by name (the registry is patched)."""

    def __init__(self, spec="prompted", options=None) -> None:
        instruction = options.query_instruction if options is not None else None
        super().__init__(query_prefix="q: " if instruction is None else instruction)
        self.name = "prompted"

    @property
    def instructions(self):
        return {"query": self.query_prefix, "document": ""}


def test_prompt_variants_reencode_queries_only(monkeypatch):
    import embedlab.run.plan as run_module

    made: list[Prompted] = []

    def load(spec, options=None):
        made.append(Prompted(spec, options))
        return made[-1]

    monkeypatch.setattr(run_module, "load_model", load)
    results = deploy_sweep("prompted", TASKS, deploy=DeployOptions(prompt_variants=True, precisions=("float32",),
                                                                  query_instructions=("find: ",)))
    assert [run.model["deploy"]["prompt"] for run in results.runs] == ["configured", "", "find: "]
    assert all(kind == "query" for model in made[1:] for kind, _ in model.calls)  # documents reused
    assert [model.query_prefix for model in made] == ["q: ", "", "find: "]


def test_prompt_variants_need_something_to_compare(monkeypatch):
    import embedlab.run.plan as run_module

    monkeypatch.setattr(run_module, "load_model", lambda spec, options=None: FakeEncoder())
    with pytest.raises(EmbedlabError, match="configures no query prompt and no --query-instruction was given"):
        deploy_sweep("fake", TASKS, deploy=DeployOptions(prompt_variants=True))
    lines = []
    deploy_sweep("fake", TASKS, run=RunOptions(announce=lines.append),
                 deploy=DeployOptions(prompt_variants=True, precisions=("float32",), query_instructions=("x: ",)))
    assert any(line.startswith("warning: fake-bigram configures no query prompt") for line in lines)


def test_a_model_without_vectors_is_refused():
    with pytest.raises(ModelError, match="is not an embedding model"):
        deploy_sweep("bm25", TASKS)
