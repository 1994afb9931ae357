"""Matryoshka: widths parsed and checked against the model's, each checkpoint scored at every width with the
truncation `embedlab sweep --dims` applies, the curve one line per width, and which widths tie with full width."""

import numpy as np
import pytest

from embedlab.demo import RERANKING
from embedlab.errors import EmbedlabError, SetupError
from embedlab.finetune import FinetuneConfig, finetune
from embedlab.finetune.matryoshka import TruncatedScorer, check_dimensions, parse_matryoshka, ties
from embedlab.models import ModelOptions
from embedlab.results.curve import Curve
from embedlab.run.evaluation import load_tasks


def test_widths_are_parsed_and_none_may_exceed_the_model():
    assert parse_matryoshka("64, 384,128,256,128") == (384, 256, 128, 64)
    for bad in ("", "a,b", "0,16"):
        with pytest.raises(EmbedlabError, match="--matryoshka"):
            parse_matryoshka(bad)
    assert check_dimensions((256, 128), 384) == {"full": 384, "trained": [384, 256, 128], "scored": [256, 128]}
    with pytest.raises(SetupError, match=r"--matryoshka 512,128: 512 is above the model's 384 dimensions"):
        check_dimensions((512, 128), 384)


def test_a_truncated_scorer_is_the_sweeps_cut_and_the_full_width_is_eval(tiny_model):
    from embedlab.embedding.store import EmbeddingStore
    from embedlab.models.sentence_transformers import SentenceTransformerEncoder
    from embedlab.scorers import DenseScorer

    task = load_tasks(RERANKING, expect="reranking")[0]
    store = EmbeddingStore(SentenceTransformerEncoder(str(tiny_model), ModelOptions(device="cpu")), progress=False)
    assert np.array_equal(TruncatedScorer(store, 32).candidate_scores(task), DenseScorer(store).candidate_scores(task))
    queries, docs = store.embed(task.texts("query"), "query")[:, :8], store.embed(task.texts("document"), "document")[:, :8]
    queries, docs = (x / np.linalg.norm(x, axis=1, keepdims=True) for x in (queries, docs))
    from embedlab.tasks.scoring import Grid

    expected = np.einsum("ij,ij->i", queries[Grid.of(task).row_of], docs)
    assert np.allclose(TruncatedScorer(store, 8).candidate_scores(task), expected, atol=1e-6)


def test_every_checkpoint_is_scored_at_each_width_and_the_summary_says_which_tie(tiny_model, tmp_path):
    from embedlab.deploy.plan import DeployOptions, deploy_sweep

    config = FinetuneConfig(max_steps=4, eval_every=2, matryoshka=(32, 16, 8), batch_size=8, group_size=4,
                            learning_rate=1e-3, warmup_ratio=0.0)
    run = finetune(str(tiny_model), RERANKING, tmp_path / "run", test=RERANKING, config=config)
    assert run.summary["loss"] == "MatryoshkaLoss(MultipleNegativesRankingLoss, dims 32,16,8)"
    assert all(set(p["dims"]) == {"16", "8"} for p in run.curve.points)
    widths = run.summary["matryoshka"]["widths"]
    assert set(widths) == {"16", "8"} and run.summary["matryoshka"]["at_step"] == run.summary["best_step"]
    assert run.summary["matryoshka"]["tied_with_full"] == [int(d) for d, w in widths.items() if w["tied_with_full"]]
    # `embedlab sweep --dims 16,8` of best/ gives the curve's numbers at those widths
    swept = deploy_sweep(str(run.best_dir), RERANKING, model=ModelOptions(device="cpu"),
                         deploy=DeployOptions(dims=(16, 8), precisions=("float32",)))
    best, compared = run.curve.best(), 0
    for model_run in swept.runs:
        dim = str(model_run.model["deploy"]["dimension"])
        if dim in best["dims"]:
            assert model_run.tasks[0].scores["v1.map"] == pytest.approx(
                best["dims"][dim]["scores"]["test"]["v1.map"], abs=1e-9)
            compared += 1
    assert compared == 2
    assert (tmp_path / "run" / "curve.png").exists()


def test_ties_are_paired_intervals_against_full_width():
    full = [1.0, 0.5, 0.0, 1.0, 0.5] * 8
    same = [1.0, 0.5, 0.0, 0.5, 1.0] * 8
    worse = [0.0, 0.0, 0.0, 0.5, 0.0] * 8
    point = {"step": 3, "scores": {"test": {"v1.map": 0.6}}, "per_query": {"test": full},
             "dims": {"16": {"scores": {"test": {"v1.map": 0.6}}, "per_query": {"test": same}},
                      "8": {"scores": {"test": {"v1.map": 0.1}}, "per_query": {"test": worse}}}}
    curve = Curve("test/v1.map", {"test": {"main": "v1.map"}}, [point])
    found = ties(curve, (16, 8))
    assert found["tied_with_full"] == [16] and not found["widths"]["8"]["tied_with_full"]
    assert found["widths"]["8"]["delta"]["high"] < 0
