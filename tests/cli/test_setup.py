"""What the commands that run models share: data, models and run settings from the options, the output checked
before any data is read, the data read once."""

from __future__ import annotations

import click
import pytest

from embedlab.cli.setup import run_setup
from embedlab.demo import RERANKING, RETRIEVAL
from embedlab.errors import DataError


def opts(**given):
    base = dict(models=(), reranking=(), retrieval=(), task_names=(), demo=False, split=None, sample=None, seed=0,
                prune_corpus=None, data_dir=None, cache_path=None, no_cache=False)
    return {**base, **given}


def test_models_tasks_and_settings_from_the_options(tmp_path):
    models, tasks, options, run = run_setup(opts(models=("bm25",), reranking=(RERANKING,), retrieval=(RETRIEVAL,),
                                                 sample=3, seed=7, no_cache=True, bm25_k1=1.2), progress=True)
    assert models == ["bm25"] and [t.type for t in tasks] == ["reranking", "retrieval"]
    assert options.bm25_k1 == 1.2 and run.cache is False and run.sample == 3 and run.seed == 7 and run.progress
    assert all(task.sample["seed"] == 7 for task in tasks)


def test_demo_fills_in_the_model_and_the_data():
    models, tasks, _, _ = run_setup(opts(demo=True))
    assert len(models) == 1 and {t.name for t in tasks} == {"demo/reranking", "demo/retrieval"}


def test_nothing_to_run_is_a_usage_error():
    with pytest.raises(click.UsageError, match="give at least one --model"):
        run_setup(opts(reranking=(RERANKING,)))
    with pytest.raises(click.UsageError, match="give --reranking and/or --retrieval data"):
        run_setup(opts(models=("bm25",)))


def test_the_output_is_checked_before_any_data_is_read(tmp_path):
    with pytest.raises(DataError, match="would overwrite or change the input"):
        run_setup(opts(models=("bm25",), reranking=(RERANKING,)), output=RERANKING)
    with pytest.raises(DataError, match="no such file"):  # read only after the output passed
        run_setup(opts(models=("bm25",), reranking=(tmp_path / "missing.jsonl",)), output=tmp_path / "r.json")


def test_a_model_whose_extra_is_missing_is_refused_before_any_work(tmp_path, monkeypatch):
    """issue 30, item 3: `eval -m MODEL -m bm25` without bm25s loaded and scored MODEL, then failed; now nothing is
    read, loaded or written: one line with the pip command, exit 2."""
    import sys

    from click.testing import CliRunner

    from embedlab.cli.main import cli

    monkeypatch.setitem(sys.modules, "bm25s", None)
    monkeypatch.setattr("embedlab.models.sentence_transformers.load_sentence_transformer",
                        lambda *a, **k: pytest.fail("a model was loaded"))
    monkeypatch.setattr("embedlab.run.evaluation.load_tasks", lambda *a, **k: pytest.fail("data was read"))
    out = tmp_path / "r.json"
    result = CliRunner().invoke(cli, ["eval", "-m", "./some-model", "-m", "bm25", "--demo", "-q", "-o", str(out),
                                      "--index", "hnsw"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        "error: -m bm25 needs 'bm25s', which is not installed: pip install 'embedlab[bm25]'"]
    assert not out.exists() and not list(tmp_path.iterdir())


def test_finetune_names_every_missing_package_of_its_extra_at_once(tmp_path, monkeypatch):
    """issue 30, item 3: `finetune` found its missing packages one error at a time."""
    import sys

    from click.testing import CliRunner

    from embedlab.cli.main import cli

    monkeypatch.setitem(sys.modules, "accelerate", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = CliRunner().invoke(cli, ["finetune", "-m", "x", "--train", str(RERANKING), "-o", str(tmp_path / "run")])
    assert result.exit_code == 2 and result.stderr.strip() == (
        "error: embedlab finetune needs 'accelerate', 'matplotlib', which are not installed: "
        "pip install 'embedlab[finetune]'")
    assert not (tmp_path / "run").exists()
