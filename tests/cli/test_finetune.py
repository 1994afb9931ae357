"""`embedlab split` then `embedlab finetune`, in a subprocess as a user runs them (tiny random BERT)."""

from __future__ import annotations

import json
import re

import pytest

from embedlab.demo import RERANKING
from tests.cli.test_main import run


def test_split_then_finetune_from_the_command_line(tmp_path, tiny_model):
    split = run("split", str(RERANKING), "-o", str(tmp_path / "s"), "--test-size", "0.25", "--seed", "1")
    assert split.returncode == 0, split.stderr
    assert "train: 30 rows" in split.stdout and "test: 10 rows" in split.stdout
    assert "passages shared between train and held-out rows" in split.stdout
    tune = run("finetune", "-m", str(tiny_model), "--train", str(tmp_path / "s" / "train.jsonl"),
               "--test", str(tmp_path / "s" / "test.jsonl"), "-o", str(tmp_path / "run"),
               "--max-steps", "4", "--eval-every", "2", "--batch-size", "8", "--group-size", "4",
               "--lr", "1e-3", "--mini-batch-size", "4", "-q")
    assert tune.returncode == 0, tune.stderr
    assert "memory plan (estimate): gradcache batch 8, mini-batch 4" in tune.stderr
    assert "alternatives (GiB, GradCache mini-batch 4): plain " in tune.stderr
    assert "step 0: test/v1.map" in tune.stderr and tune.stderr.count("step 4: test/v1.map") == 1
    assert "95% bootstrap CI" in tune.stdout and "best model:" in tune.stdout
    assert "{'train_runtime'" not in tune.stdout  # the trainer's log line stays off stdout
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert f"base {summary['base']:.4f} -> best {summary['best']:.4f}" in tune.stdout
    assert summary["leakage"] == {"test": 0}
    assert (tmp_path / "run" / "best" / "model.safetensors").exists()
    scored = run("eval", "-m", str(tmp_path / "run" / "best"), "--reranking", str(tmp_path / "s" / "test.jsonl"),
                 "--format", "json", "-q", "-o", str(tmp_path / "best.json"))
    assert scored.returncode == 0, scored.stderr
    assert abs(json.loads(scored.stdout)["runs"][0]["tasks"][0]["scores"]["v1.map"] - summary["best"]) < 1e-9


def test_finetune_output_is_quiet_and_a_rerun_reports_the_finished_run(tmp_path, tiny_model):
    args = ["finetune", "-m", str(tiny_model), "--train", str(RERANKING), "--test", str(RERANKING),
            "-o", str(tmp_path / "run"), "--max-steps", "3", "--eval-every", "1", "--batch-size", "8",
            "--group-size", "4", "--lr", "1e-3", "--passage-max-length", "16"]
    tune = run(*args)  # no -q: the progress line is for terminals, a pipe gets one line per evaluation
    assert tune.returncode == 0, tune.stderr
    for noise in ("{'loss'", "'eval_", "Computing widget", "Writing model shards", "it/s]"):
        assert noise not in tune.stderr and noise not in tune.stdout, noise
    assert [line.split(":")[0] for line in tune.stderr.splitlines() if line.startswith("step ")] == \
        ["step 0", "step 1", "step 2", "step 3"]
    assert "; train loss " in tune.stderr
    assert "max length: trained at 32 (queries) / 16 (passages) tokens; checkpoints, best/ and the curve at 64" \
        in tune.stdout
    assert len(list((tmp_path / "run").glob("checkpoint-*"))) <= 2
    again = run(*args)
    assert again.returncode == 0, again.stderr
    assert "complete at checkpoint-3: nothing to train" in again.stderr and "step " not in again.stderr
    assert again.stdout == tune.stdout
    changed = run(*args[:-4], "--lr", "2e-3", "--passage-max-length", "16")
    assert changed.returncode == 2 and changed.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "lr 0.001 -> 0.002" in changed.stderr and "--no-resume" in changed.stderr


def test_finetune_bad_options_are_one_line(tmp_path, tiny_model):
    bad = run("finetune", "-m", str(tiny_model), "--train", str(RERANKING), "-o", str(tmp_path / "r"))
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error: fine-tuning needs held-out")
    bad = run("finetune", "-m", str(tiny_model), "--train", str(RERANKING), "--test", str(RERANKING),
              "-o", str(tmp_path / "r"), "--mini-batch-size", "lots")
    assert bad.returncode == 2 and "--mini-batch-size" in bad.stderr
    for value in ("0", "some"):
        bad = run("finetune", "-m", str(tiny_model), "--train", str(RERANKING), "--test", str(RERANKING),
                  "-o", str(tmp_path / "r"), "--keep-checkpoints", value)
        assert bad.returncode == 2 and "--keep-checkpoints" in bad.stderr and not (tmp_path / "r").exists()
    bad = run("split", str(RERANKING), "-o", str(tmp_path / "s"), "--test-size", "1.5")
    assert bad.returncode == 2 and "--test" in bad.stderr


NOTE = "note: {} is now {} (the old spelling goes in the next release)"


def test_finetune_output_new_and_old_spelling(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from click.testing import CliRunner

    from embedlab.cli.finetune import finetune_command

    folders = []
    monkeypatch.setattr("embedlab.finetune.finetune", lambda model, train, out_dir, **kwargs: (
        folders.append(out_dir), SimpleNamespace(summary={"best": 0.5}))[1])
    args = ["-m", "m", "--train", str(RERANKING), "--test", str(RERANKING), "--format", "json"]
    new = CliRunner().invoke(finetune_command, [*args, "--output", str(tmp_path / "new")])
    assert new.exit_code == 0 and new.stderr == "" and json.loads(new.stdout) == {"best": 0.5}, new.output
    old = CliRunner().invoke(finetune_command, [*args, "--out", str(tmp_path / "old")])
    assert old.exit_code == 0 and old.stderr == NOTE.format("--out", "--output") + "\n"
    assert folders == [tmp_path / "new", tmp_path / "old"]
    assert not re.search(r"--out(?![\w-])", CliRunner().invoke(finetune_command, ["--help"]).output)
    assert "Missing option '-o' / '--output'" in CliRunner().invoke(finetune_command, args).stderr


def _cli(*args):
    """The command in this process (as `embedlab` runs it: EmbedlabError -> one line, exit 2)."""
    from click.testing import CliRunner

    from embedlab.cli.main import cli

    return CliRunner().invoke(cli, list(args))


def test_plan_prints_the_memory_plan_and_writes_nothing(tmp_path, tiny_decoder):
    planned = _cli("finetune", "-m", str(tiny_decoder), "--plan", "--batch-size", "16")
    assert planned.exit_code == 0, planned.output
    assert "2 decoder layers" in planned.stdout and "planned for this machine (CPU, fp32)" in planned.stdout
    assert "memory plan (estimate): plain batch 16" in planned.stdout
    assert "\n  fits in " in planned.stdout and "GiB: plain (" in planned.stdout
    gpu = _cli("finetune", "-m", str(tiny_decoder), "--plan", "--lora", "r=4", "--gpu-memory", "24GB",
               "--format", "json")
    assert gpu.exit_code == 0, gpu.output
    chosen = json.loads(gpu.stdout)["chosen"]
    assert chosen["device"] == "cuda" and chosen["adapter"].startswith("LoRA r=4") and chosen["fits"]
    assert list(tmp_path.iterdir()) == []


def test_each_new_mode_refuses_bad_input_in_one_line(tmp_path, tiny_model, tiny_decoder):
    pytest.importorskip("peft")
    base = ["finetune", "-m", str(tiny_model), "--train", str(RERANKING), "--test", str(RERANKING),
            "-o", str(tmp_path / "r")]
    cases = {
        ("--lora", "targets=query+wq"): "targets=wq matches no linear layer of this model; its layers have: query",
        ("--lora", "r=x"): "--lora 'r=x': r must be a number",
        ("--matryoshka", "64,16"): "--matryoshka 64,16: 64 is above the model's 32 dimensions",
        ("--nproc", "64"): "--nproc 64: only",
        ("--batch-size", "9", "--nproc", "2"): "--batch-size 9 is not a multiple of the 2 processes",
        ("--keep-adapter",): "--keep-adapter needs --lora",
        ("--distill-loss", "kl"): "--distill-loss needs --teacher",
        ("--max-cost", "1"): "--max-cost needs --teacher",
        ("--teacher", "ce:unread", "--mini-batch-size", "4"): "--mini-batch-size 4: the distillation losses",
        ("--gpu-memory", "24GB"): "--gpu-memory needs --plan",
        ("--cross-encoder", "--lora"): "--lora trains an embedding model; --cross-encoder trains a reranker",
        ("--teacher", str(tiny_decoder)): "is a SentenceTransformer model (it embeds texts), not a cross-encoder",
    }
    for extra, says in cases.items():
        result = _cli(*base, *extra)
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2 and says in lines[-1], (extra, result.output)
        assert lines[-1].startswith(("error: ", "Error: ")) and not (tmp_path / "r").exists(), extra
    plan_bad = _cli("finetune", "-m", str(tiny_model), "--plan", "--gpu-memory", "lots")
    assert plan_bad.exit_code == 2 and "give a size such as 24GB" in plan_bad.stderr


@pytest.mark.slow
def test_a_reranker_from_the_command_line_is_evals_reranker(tmp_path, tiny_model):
    tune = run("finetune", "--cross-encoder", "-m", str(tiny_model), "--train", str(RERANKING), "--test",
               str(RERANKING), "-o", str(tmp_path / "ce"), "--max-steps", "2", "--eval-every", "2",
               "--batch-size", "8", "--lr", "5e-4", "-q")
    assert tune.returncode == 0, tune.stderr
    assert "step 2: test/v1.map" in tune.stderr and "best model:" in tune.stdout
    summary = json.loads((tmp_path / "ce" / "summary.json").read_text())
    scored = run("eval", "-m", str(tiny_model), "--reranker", str(tmp_path / "ce" / "best"), "--reranking",
                 str(RERANKING), "--format", "json", "-q")
    assert scored.returncode == 0, scored.stderr
    alone = [r for r in json.loads(scored.stdout)["runs"] if r["model"]["name"] == str(tmp_path / "ce" / "best")][0]
    assert abs(alone["tasks"][0]["scores"]["v1.map"] - summary["best"]) < 1e-9


@pytest.mark.slow
def test_torchrun_starts_the_same_run_as_nproc(tmp_path, tiny_model_without_dropout):
    """Every process of `torchrun` runs the command; rank 0 prepares, prints and writes; the curve equals --nproc's."""
    import os
    import subprocess
    import sys

    args = ["finetune", "-m", str(tiny_model_without_dropout), "--train", str(RERANKING), "--test", str(RERANKING),
            "--max-steps", "2", "--eval-every", "2", "--batch-size", "8", "--group-size", "2", "--lr", "1e-3", "-q"]
    launched = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                               "-m", "embedlab.cli.main", *args, "-o", str(tmp_path / "torchrun")], capture_output=True,
                              text=True, env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}, timeout=900)
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert launched.stdout.count("best model:") == 1 and launched.stderr.count("step 2: test/v1.map") == 1
    nproc = run(*args, "--nproc", "2", "-o", str(tmp_path / "nproc"))
    assert nproc.returncode == 0, nproc.stderr
    summaries = [json.loads((tmp_path / name / "summary.json").read_text()) for name in ("torchrun", "nproc")]
    assert summaries[0]["processes"] == summaries[1]["processes"] == 2
    assert abs(summaries[0]["best"] - summaries[1]["best"]) < 1e-6
