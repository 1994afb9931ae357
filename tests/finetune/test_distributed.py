"""Data-parallel fine-tuning on CPU: 2 processes (gloo) on the tiny BERT equal one process with the same batch; the
in-batch negatives span both processes (checked on a recorded batch); a killed process fails the run in one line."""

from __future__ import annotations

import json
import os
import signal
import time
from types import SimpleNamespace

import numpy as np
import pytest
from transformers import TrainerCallback

from embedlab.demo import RERANKING
from embedlab.errors import EmbedlabError, SetupError
from embedlab.finetune import FinetuneConfig, finetune
from embedlab.finetune.distributed import World, backend, check_nproc, failure_line, process_device, world
from embedlab.results.curve import Curve
from tests.conftest import write_jsonl

LOSS_TOLERANCE = 1e-5  # logged train loss, single process vs 2 processes
SCORE_TOLERANCE = 1e-6  # per-query scores of every checkpoint


class Recorder(TrainerCallback):
    """Records, in each process, the first batch the InfoNCE loss sees: its own embeddings, what it gathered from
    every process, and the loss it computed (a file per rank)."""

    def __init__(self, folder) -> None:
        self.folder = str(folder)

    def on_train_begin(self, args, state, control, **kwargs):
        import torch
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
        from sentence_transformers.util import all_gather

        original, folder = MultipleNegativesRankingLoss.compute_loss_from_embeddings, self.folder

        def recorded(loss_self, embeddings, labels):
            loss = original(loss_self, embeddings, labels)
            rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
            path = os.path.join(folder, f"batch-{rank}.pt")
            if not os.path.exists(path):
                gathered = [all_gather(e.detach()) if loss_self.gather_across_devices else e.detach()
                            for e in embeddings]
                torch.save({"local": [e.detach() for e in embeddings], "gathered": gathered,
                            "loss": float(loss.detach()), "scale": loss_self.scale}, path)
            return loss

        MultipleNegativesRankingLoss.compute_loss_from_embeddings = recorded


class Killer(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 3 and world().rank == 1:  # after checkpoint-2
            os.kill(os.getpid(), signal.SIGKILL)


def _distinct_rows(n: int = 16):
    """Rows whose texts are all different: the NO_DUPLICATES sampler then batches both runs alike."""
    return [{"query": f"which colour has item {i} in box {i * 7}", "pos": [f"item {i} in box {i * 7} is painted red"],
             "neg": [f"box {i * 3} holds nothing about item {i + 100}"]} for i in range(n)]


def test_the_world_the_backend_and_each_process_device(monkeypatch):
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert world() == World(3, 1, 4) and not world().main
    assert backend("cuda:1") == "nccl" and backend("cpu") == "gloo"
    assert process_device("cuda", world()) == "cuda:1" and process_device("cpu", world()) == "cpu"
    assert process_device("cuda", World()) == "cuda"


def test_more_processes_than_cores_or_gpus_is_refused(monkeypatch):
    import torch

    import embedlab.finetune.distributed as distributed

    monkeypatch.setattr(distributed, "cores", lambda: 2)
    check_nproc(2, "cpu")
    check_nproc(None, "cpu")
    with pytest.raises(SetupError, match="--nproc 3: only 2 CPU cores"):
        check_nproc(3, "cpu")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(SetupError, match="--nproc 2: only 1 CUDA GPUs"):
        check_nproc(2, "cuda")


def test_a_failed_process_is_one_line():
    killed = {1: SimpleNamespace(exitcode=-9, message="<N/A>")}
    assert failure_line(killed, 2).startswith("fine-tuning process 1 of 2 was killed by SIGKILL; the other processes")
    raised = {0: SimpleNamespace(exitcode=1, message="Traceback...\nEmbedlabError: the adapter did not move")}
    assert "process 0 of 2 failed: EmbedlabError: the adapter did not move" in failure_line(raised, 2)
    assert "\n" not in failure_line(raised, 2)


@pytest.mark.slow
def test_two_processes_equal_one_with_the_same_batch(tiny_model_without_dropout, tmp_path):
    import torch

    train = write_jsonl(tmp_path / "train.jsonl", _distinct_rows())
    common = dict(max_steps=4, eval_every=2, batch_size=8, group_size=2, learning_rate=1e-3, warmup_ratio=0.0)
    runs = {}
    for name, nproc in (("single", None), ("ddp", 2)):
        (tmp_path / name).mkdir()
        runs[name] = finetune(str(tiny_model_without_dropout), train, tmp_path / f"run-{name}", test=RERANKING,
                              config=FinetuneConfig(nproc=nproc, **common), callbacks=[Recorder(tmp_path / name)])
    single, ddp = runs["single"], runs["ddp"]
    assert ddp.summary["processes"] == 2 and ddp.summary["memory"]["chosen"]["batch_size"] == 4
    assert [p["step"] for p in ddp.curve.loss] == [p["step"] for p in single.curve.loss] == [1, 2, 3, 4]
    assert np.allclose([p["loss"] for p in ddp.curve.loss], [p["loss"] for p in single.curve.loss],
                       atol=LOSS_TOLERANCE, rtol=0)
    assert [p["step"] for p in ddp.curve.points] == [p["step"] for p in single.curve.points] == [0, 2, 4]
    for a, b in zip(ddp.curve.points, single.curve.points):
        assert np.allclose(a["per_query"]["test"], b["per_query"]["test"], atol=SCORE_TOLERANCE, rtol=0)
    # the recorded first batch: each process's candidates are every process's passages, and its loss used them
    one = torch.load(tmp_path / "single" / "batch-0.pt")
    ranks = [torch.load(tmp_path / "ddp" / f"batch-{r}.pt") for r in (0, 1)]
    for column in range(3):  # query, positive, negative
        both = torch.cat([rank["local"][column] for rank in ranks])
        assert torch.allclose(both, one["local"][column], atol=1e-5)  # the same 8 examples, split 4 + 4
        for rank in ranks:
            assert torch.allclose(rank["gathered"][column], both)
    losses = []
    for r, rank in enumerate(ranks):
        queries = torch.nn.functional.normalize(rank["local"][0], dim=-1)
        candidates = torch.nn.functional.normalize(torch.cat(rank["gathered"][1:]), dim=-1)
        logits = queries @ candidates.T * rank["scale"]
        assert logits.shape == (4, 16)  # 4 queries of this process against the 8 + 8 passages of both
        losses.append(torch.nn.functional.cross_entropy(logits, torch.arange(4) + 4 * r).item())
        assert losses[-1] == pytest.approx(rank["loss"], abs=1e-5)
    assert np.mean(losses) == pytest.approx(one["loss"], abs=1e-5)


@pytest.mark.slow
def test_a_killed_process_fails_the_run_in_one_line_without_hanging(tiny_model, tmp_path):
    config = FinetuneConfig(nproc=2, max_steps=6, eval_every=2, batch_size=8, group_size=2, learning_rate=1e-3)
    started = time.perf_counter()
    with pytest.raises(EmbedlabError) as failed:
        finetune(str(tiny_model), write_jsonl(tmp_path / "t.jsonl", _distinct_rows()), tmp_path / "run",
                 test=RERANKING, config=config, callbacks=[Killer()])
    assert str(failed.value).startswith("fine-tuning process 1 of 2 was killed by SIGKILL")
    assert "\n" not in str(failed.value) and "resumes from its last checkpoint" in str(failed.value)
    assert time.perf_counter() - started < 600  # stopped, not left waiting on a collective
    assert (tmp_path / "run" / "checkpoint-2").is_dir()  # kept: the run resumes from it


@pytest.mark.slow
def test_a_last_step_off_the_evaluation_grid_ends_every_process(tiny_model, tmp_path):
    """Training ends at step 3 (an epoch end, not a multiple of --eval-every 2): the trainer evaluates it once, and
    every process must agree not to evaluate it again (rank 1 has no curve points of its own: it used to evaluate
    a second time and wait forever for rank 0)."""
    import subprocess
    import sys

    train = write_jsonl(tmp_path / "train.jsonl", _distinct_rows(24))
    args = [sys.executable, "-m", "embedlab.cli.main", "finetune", "-m", str(tiny_model), "--train", str(train),
            "--test", str(RERANKING), "-o", str(tmp_path / "run"), "--epochs", "1", "--eval-every", "2",
            "--batch-size", "8", "--group-size", "2", "--nproc", "2", "-q"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("the 2-process run did not end: a process waits on a collective the other never joins")
    assert process.returncode == 0, err
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["steps"] == 3 and [p["step"] for p in Curve.load(tmp_path / "run" / "curve.json").points] == [
        0, 2, 3]


@pytest.mark.slow
def test_a_run_that_takes_no_step_fails_in_one_line(tiny_model, tmp_path):
    """Every row shares its negative: with 2 processes (full batches only) the no-duplicates sampler finds no batch
    of 4 examples without a repeated text, and the trainer stops at step 0. That is an error, not a run."""
    import subprocess
    import sys

    rows = [{"query": f"question {i}", "pos": [f"answer {i}"], "neg": ["the passage every row shares"]}
            for i in range(16)]
    args = [sys.executable, "-m", "embedlab.cli.main", "finetune", "-m", str(tiny_model), "--train",
            str(write_jsonl(tmp_path / "train.jsonl", rows)), "--test", str(RERANKING), "-o", str(tmp_path / "run"),
            "--epochs", "1", "--batch-size", "8", "--group-size", "2", "--nproc", "2", "-q"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: no training step was taken: no batch of 4 examples per process") and \
        "lower --batch-size or --group-size" in last
    assert not (tmp_path / "run").exists()
