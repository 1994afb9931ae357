"""What `embedlab split` and `embedlab finetune` print: the split's counts and leakage, the run's summary.

Both render plain data (a `SplitReport`, the run's `summary.json` dict), so neither needs torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

GIB = 1024 ** 3  # memory in GiB with two decimals, as the fine-tuning messages give it


def split_lines(report: Any, out_dir: Path, *, by_passage: bool = False) -> list[str]:
    """Rows and distinct queries per split, query groups kept together, passages shared with train (a retrieval
    folder split `by_passage`: queries per split and the groups of queries that share a relevant passage)."""
    if by_passage:
        return [f"{name:>5}: {report.queries[name]:,} queries -> {out_dir / report.files[name]['path']}"
                for name in report.rows] + [
            f"queries kept together (sharing a relevant passage): {report.query_groups_merged:,} groups; no passage "
            "is a positive of a train query and of a held-out one"]
    lines = [f"{name:>5}: {rows:,} rows, {report.queries[name]:,} distinct queries -> "
             f"{out_dir / report.files[name]['path']}" for name, rows in report.rows.items()]
    lines += [f"query groups kept together (equal or normalised-equal queries): {report.query_groups_merged:,}",
              f"passages shared between train and held-out rows: {report.shared_passages:,} "
              f"({report.shared_positives:,} are held-out positives), in "
              f"{report.train_rows_touching_shared:,} train rows"]
    lines += [f"  e.g. {example['train']}: held-out {example['held_out_role']}: {example['passage'][:70]!r}"
              for example in report.examples[:3]]
    if report.dropped_from_train:
        d = report.dropped_from_train
        lines.append(f"dropped from train: {d['passages']:,} shared passages; "
                     f"{d['rows_without_positive']:,} rows left without a positive were removed")
    elif report.shared_passages:
        lines.append("  (use --drop-shared to remove them from train)")
    return lines


def health_line(health: dict) -> str:
    """The collapse indicators at the best step against the base model, and when they warn."""
    base, best = health["base"], health["best"]
    moves = "; ".join(f"{label} {base[name]:.3g} -> {best[name]:.3g} ({best[name] / base[name]:.2f}x)"
                      for name, label in (("mean_pairwise_cosine", "mean cosine"), ("score_spread", "spread"),
                                          ("effective_rank", "effective rank")) if base[name])
    return f"health at the best step: {moves} (thresholds: {health['thresholds']})"


def summary_text(summary: dict, out_dir: Path) -> str:
    """The run's honest summary in a few lines."""
    d = summary["delta"]
    sign = "significant" if summary["significant"] else "NOT significant"
    lines = [
        f"{summary['metric']}: base {summary['base']:.4f} -> best {summary['best']:.4f} at step "
        f"{summary['best_step']} (last: {summary['last']:.4f} at step {summary['last_step']})",
        (f"delta {d['mean']:+.4f}, 95% bootstrap CI [{d['low']:+.4f}, {d['high']:+.4f}] over queries: "
         f"{sign}"),
    ]
    if summary["plateau_step"] is not None and summary["plateau_step"] < summary["best_step"]:
        lines.append(f"90% of the gain was reached by step {summary['plateau_step']}")
    if summary["degrades_after_best"]:
        drop = summary["last_vs_best"]
        lines.append(f"later checkpoints degrade: last vs best {drop['mean']:+.4f} "
                     f"[{drop['low']:+.4f}, {drop['high']:+.4f}]")
    for label, guard in summary["guards"].items():
        lines.append(f"guard {label}: {guard['base']:.4f} -> {guard['best']:.4f} at the best step")
    leaks = {k: v for k, v in summary["leakage"].items() if v}
    if leaks:
        lines.append("warning: held-out queries also in train (scores inflated): "
                     + ", ".join(f"{k} {v}" for k, v in leaks.items()) + "; use `embedlab split`")
    lines += [f"warning: {w}" for w in summary["warnings"][:3]]
    if len(summary["warnings"]) > 3:
        lines.append(f"  ... and {len(summary['warnings']) - 3} more warnings (curve.json has each point's)")
    if "health" in summary:  # not in summaries of earlier versions
        lines.append(health_line(summary["health"]))
    memory = summary["memory"]
    planned = f"planned ~{memory['chosen']['total'] / GIB:.2f} GiB (estimate), " if "chosen" in memory else ""
    lines.append(f"loss: {summary['loss']}; memory: {planned}measured peak {memory['measured_peak_bytes'] / GIB:.2f} "
                 f"GiB ({memory['measured']})")
    if summary.get("kind") == "cross-encoder":
        lines.append(f"max length: (query, passage) pairs trained, scored and saved at {summary['max_length']} tokens")
    elif "max_length" in summary:  # not in summaries of earlier versions
        trained = summary["train_max_length"]
        lines.append(f"max length: trained at {trained['query']} (queries) / {trained['passage']} (passages) "
                     f"tokens; checkpoints, best/ and the curve at {summary['max_length']}")
    lines += mode_lines(summary, out_dir)
    best = "the base model (no checkpoint beat it)" if summary["best_step"] == 0 else \
        f"checkpoint-{summary['best_step']}"
    lines.append(f"best model: {out_dir / 'best'} = {best}; curve: {out_dir / 'curve.png'}")
    return "\n".join(lines)


def mode_lines(summary: dict, out_dir: Path) -> list[str]:
    """What LoRA (best/ merged, the adapter proof), Matryoshka (each width at the best step, which are tied with
    full width) and a teacher (pairs, false negatives) did in this run."""
    lines = []
    lora = summary.get("lora")
    if lora:
        kept = f"; the adapter alone: {out_dir / lora['adapter_dir']}" if lora.get("adapter_dir") else ""
        merged = " (a plain model)" if lora.get("proof") else ""
        lines.append(f"{lora['label']}: {lora['trainable_parameters']:,} of {lora['parameters']:,} parameters "
                     f"trained; best/ is {lora['best']}{merged}{kept}")
        proof = lora.get("proof")
        if proof:
            bound = f" (bound {proof['merged_bound']:.0e})" if "merged_bound" in proof else ""
            lines.append(f"adapter proof on {proof['texts']} held-out texts: best/ = the adapter model to "
                         f"{proof['merged_vs_adapter_max_abs']:.1e}{bound}; adapter vs base: "
                         f"{proof['adapter_vs_base_max_abs']:.2g} (it changed the model)")
    matryoshka = summary.get("matryoshka")
    if matryoshka and "widths" in matryoshka:
        widths = "".join(f"; @{dim} {w['value']:.4f} ({w['delta']['mean']:+.4f} [{w['delta']['low']:+.4f}, "
                         f"{w['delta']['high']:+.4f}])" for dim, w in matryoshka["widths"].items())
        tied = ", ".join(str(dim) for dim in matryoshka["tied_with_full"]) or "none"
        lines.append(f"widths at the best step ({matryoshka['at_step']}): @{matryoshka['full']} {summary['best']:.4f}"
                     f"{widths}; tied with @{matryoshka['full']} (95% paired CI): {tied}")
    teacher = summary.get("teacher")
    if teacher:
        pairs = teacher["pairs"]
        scale = "probabilities" if teacher["scale"] == "probability" else "logits"
        lines.append(f"teacher {teacher['model']}: {pairs['unique_pairs']:,} pairs scored ({pairs['cache_hits']:,} "
                     f"from the cache), {scale}, {teacher['loss']}; {teacher['above_positive']:,} negatives above "
                     f"their positive, {teacher['dropped']:,} dropped as likely false negatives (relative margin "
                     f"{teacher['relative_margin']:g}); {teacher['fills_above_positive']:,} random fills above the "
                     "positive")
    return lines
