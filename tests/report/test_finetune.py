"""report/finetune.py: what `split` and `finetune` print, from a SplitReport and a run summary (no torch)."""

from __future__ import annotations

from pathlib import Path

from embedlab.data.split import SplitReport
from embedlab.report.finetune import GIB, split_lines, summary_text
from embedlab.results.curve import Curve
from tests.results.test_curve import BASE, TASKS, point, shifted


def split_report(**changes) -> SplitReport:
    fields = dict(source="d.jsonl", seed=1, fractions={"test": 0.25}, rows={"train": 30, "test": 10},
                  queries={"train": 29, "test": 10}, query_groups_merged=1, shared_passages=2, shared_positives=1,
                  train_rows_touching_shared=3,
                  examples=[{"train": "d.jsonl:4", "held_out_role": "positive", "passage": "绿茶" * 50}],
                  files={"train": {"path": "train.jsonl"}, "test": {"path": "test.jsonl"}})
    return SplitReport(**{**fields, **changes})


def test_split_lines_count_rows_queries_and_shared_passages():
    lines = split_lines(split_report(), Path("s"))
    assert lines[:2] == ["train: 30 rows, 29 distinct queries -> s/train.jsonl",
                         " test: 10 rows, 10 distinct queries -> s/test.jsonl"]
    assert "query groups kept together (equal or normalised-equal queries): 1" in lines
    assert ("passages shared between train and held-out rows: 2 (1 are held-out positives), in 3 train rows"
            in lines)
    assert lines[-2] == f"  e.g. d.jsonl:4: held-out positive: {('绿茶' * 35)!r}"  # cut at 70 characters
    assert lines[-1] == "  (use --drop-shared to remove them from train)"
    dropped = split_lines(split_report(dropped_from_train={"passages": 2, "rows_without_positive": 1}), Path("s"))
    assert dropped[-1] == "dropped from train: 2 shared passages; 1 rows left without a positive were removed"


def run_summary(curve_points, **changes) -> dict:
    summary = {**Curve("test/v1.map", TASKS, curve_points).summary(), "leakage": {"test": 0}, "loss": "gradcache",
               "memory": {"chosen": {"total": 1.5 * GIB}, "measured_peak_bytes": 1.25 * GIB,
                          "measured": "process RSS (sampled every 20 ms)"}}
    return {**summary, **changes}


def test_summary_text_base_best_delta_plateau_degradation_guards_and_memory():
    points = [point(0, 0.5, BASE, guard=0.40), point(10, 0.6, shifted(BASE, 0.1)),
              point(20, 0.69, shifted(BASE, 0.19), warnings=["passages are collapsing"]),
              point(30, 0.7, shifted(BASE, 0.2), guard=0.35), point(40, 0.65, shifted(BASE, 0.15))]
    text = summary_text(run_summary(points, leakage={"test": 2}), Path("runs/x")).splitlines()
    assert text[0] == "test/v1.map: base 0.5000 -> best 0.7000 at step 30 (last: 0.6500 at step 40)"
    assert text[1] == "delta +0.2000, 95% bootstrap CI [+0.2000, +0.2000] over queries: significant"
    assert "90% of the gain was reached by step 20" in text
    assert "later checkpoints degrade: last vs best -0.0500 [-0.0500, -0.0500]" in text
    assert "guard guard: 0.4000 -> 0.3500 at the best step" in text
    assert ("warning: held-out queries also in train (scores inflated): test 2; use `embedlab split`" in text)
    assert "warning: passages are collapsing" in text
    assert ("loss: gradcache; memory: planned ~1.50 GiB (estimate), measured peak 1.25 GiB "
            "(process RSS (sampled every 20 ms))") in text
    assert text[-1] == "best model: runs/x/best = checkpoint-30; curve: runs/x/curve.png"


def test_summary_text_of_a_run_nothing_beat_names_the_base_model():
    text = summary_text(run_summary([point(0, 0.5, BASE), point(10, 0.5, BASE)]), Path("r"))
    assert "NOT significant" in text and "plateau" not in text and "degrade" not in text
    assert text.endswith("best model: r/best = the base model (no checkpoint beat it); curve: r/curve.png")


def test_summary_text_says_what_lora_matryoshka_and_a_teacher_did():
    points = [point(0, 0.5, BASE), point(10, 0.7, shifted(BASE, 0.2))]
    lora = {"label": "LoRA r=16 on 6 linear layers per transformer layer", "trainable_parameters": 663552,
            "parameters": 22713216, "best": "checkpoint-10 with its adapter merged", "adapter_dir": "adapter",
            "proof": {"texts": 128, "merged_vs_adapter_max_abs": 2.4e-7, "adapter_vs_base_max_abs": 0.093,
                      "merged_bound": 1e-5}}
    delta = {"mean": -0.018, "low": -0.0432, "high": 0.0079}
    matryoshka = {"full": 384, "at_step": 10, "tied_with_full": [256, 64],
                  "widths": {"256": {"value": 0.7045, "delta": {"mean": 0.0045, "low": -0.01, "high": 0.02}},
                             "64": {"value": 0.682, "delta": delta}}}
    teacher = {"model": "ce:r/best", "loss": "margin-mse", "scale": "probability", "scale_used": "probability",
               "relative_margin": 0.05, "above_positive": 1443, "dropped": 3132, "fills_above_positive": 2434,
               "pairs": {"unique_pairs": 10616, "cache_hits": 0}}
    text = summary_text(run_summary(points, lora=lora, matryoshka=matryoshka, teacher=teacher), Path("r"))
    lines = text.splitlines()
    assert ("LoRA r=16 on 6 linear layers per transformer layer: 663,552 of 22,713,216 parameters trained; best/ is "
            "checkpoint-10 with its adapter merged (a plain model); the adapter alone: r/adapter") in lines
    assert ("adapter proof on 128 held-out texts: best/ = the adapter model to 2.4e-07 (bound 1e-05); adapter vs "
            "base: 0.093 (it changed the model)") in lines
    assert ("widths at the best step (10): @384 0.7000; @256 0.7045 (+0.0045 [-0.0100, +0.0200]); @64 0.6820 "
            "(-0.0180 [-0.0432, +0.0079]); tied with @384 (95% paired CI): 256, 64") in lines
    assert ("teacher ce:r/best: 10,616 pairs scored (0 from the cache), probabilities, margin-mse; 1,443 negatives "
            "above their positive, 3,132 dropped as likely false negatives (relative margin 0.05); 2,434 random "
            "fills above the positive") in lines
    assert lines[-1].startswith("best model: r/best = checkpoint-10")
    nothing = summary_text(run_summary(points, lora={**lora, "best": "the base model (no checkpoint beat it)",
                                                     "proof": None, "adapter_dir": None}), Path("r"))
    assert ("LoRA r=16 on 6 linear layers per transformer layer: 663,552 of 22,713,216 parameters trained; best/ is "
            "the base model (no checkpoint beat it)") in nothing.splitlines() and "proof" not in nothing
