"""What a deployment sweep (`embedlab sweep`, `deploy.deploy_sweep`) found, from results alone: per task, every
variant's score with its bootstrap CI, the paired difference to the baseline (full width, float32, exact search,
the configured prompt) with its CI and Holm-corrected test (by `results.compare`), its cost (bytes per vector,
index bytes, ms per query) and whether it is on the Pareto frontier of quality against bytes and against ms.

A variant not significantly different from the baseline and cheaper is a free saving. Each summary ends with a
recommendation (`recommend`): the cheapest variant not significantly worse than the baseline, what it saves, and how
much the CI of its difference leaves open; `overall` gives the cheapest vector format that holds on every task, and
names the cheaper ones that hold on some tasks but are significantly worse on others. Index latencies on a corpus
under `MEANINGFUL_DOCUMENTS` are flagged and not used to choose. (`results/sweep.py` is the hybrid's weight sweep;
this is the deployment one.)

Encoder variants (`sweep --backend`: the model run by onnx, openvino, int8, or a static model distilled from it) are
rows too, with their encode speed (texts per second, ms per query at batch 1) and the bytes of the model they run; they
take part in the frontiers (and one of their own: quality against encode ms per query), and get a recommendation of
their own (`recommend_encoder`, `overall_encoder`): which encoder to run is chosen apart from how its vectors are
stored, and the two combine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from embedlab.results.compare import compare
from embedlab.results.results import ModelRun, Results, TaskResult
from embedlab.results.stats import Interval
from embedlab.results.table import display_names

# below this many documents an exact scan takes microseconds and an index's fixed costs dominate: what an approximate
# index costs or saves in ms per query says nothing about a deployment there (its recall and the scores stand)
MEANINGFUL_DOCUMENTS = 10_000


@dataclass
class VariantRow:
    name: str  # the run's display name
    variant: dict[str, Any]  # dimension, precision, index, prompt, bytes_per_vector
    mean: float
    ci: Interval
    delta: Interval | None  # vs the baseline (None for the baseline)
    p_holm: float | None
    tied: bool  # not significantly different from the baseline (the baseline itself too)
    index_bytes: int | None
    ms_batch: float | None
    ms_single: float | None
    neighbour_recall: float | None  # approximate indexes: share of the exact top 10 found
    cheaper: bool = False  # fewer bytes per vector, or a faster single-query search, than the baseline
    frontier_bytes: bool = False
    frontier_ms: bool = False
    encoder: str = "torch"  # the backend that encoded the texts (`deploy.encoders`)
    texts_per_second: float | None = None  # the encoder's throughput (measured on rows of a `--backend` sweep)
    encode_ms: float | None = None  # ms to encode one query alone (median, after a warm-up)
    model_bytes: int | None = None  # of what the encoder runs: the model folder, the export, the static model
    frontier_encode: bool = False  # Pareto: score against encode ms per query

    @property
    def free(self) -> bool:
        """A free saving: tied with the baseline, and cheaper."""
        return self.tied and self.delta is not None and self.cheaper


@dataclass
class DeploySummary:
    task: str
    metric: str
    queries: int
    model: str  # the model swept
    baseline: str
    alpha: float
    rows: list[VariantRow]  # sorted by cost: bytes per vector, then ms per query
    notes: list[str]
    documents: int | None = None  # the corpus searched (retrieval); None for reranking rows
    recommendation: str = ""  # the cheapest variant that holds, and why (`recommend`)
    encoder_recommendation: str = ""  # with encoder rows: the fastest encoder that holds (`recommend_encoder`)

    @property
    def latency_meaningful(self) -> bool:
        """Whether ms per query can tell indexes apart here (`MEANINGFUL_DOCUMENTS`)."""
        return self.documents is not None and self.documents >= MEANINGFUL_DOCUMENTS

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_deploy_run(run: ModelRun) -> bool:
    return run.kind == "variant"


def is_encoder_row(row: VariantRow) -> bool:
    """A row of another backend than the baseline's: it re-encodes, so it says nothing about a vector format."""
    return row.encoder != "torch"


def deploy_summaries(results: Results | list[Results], *, alpha: float = 0.05, resamples: int = 10_000,
                     seed: int = 0) -> list[DeploySummary]:
    """One summary per (model swept, task)."""
    runs = [run for result in (results if isinstance(results, list) else [results]) for run in result.runs]
    names = dict(zip(map(id, runs), display_names(runs)))
    groups: dict[str, list[ModelRun]] = {}
    for run in filter(is_deploy_run, runs):
        groups.setdefault(run.model["deploy"]["of"], []).append(run)
    out = []
    for model, group in groups.items():
        baseline = next((run for run in group if run.model["deploy"].get("baseline")), None)
        if baseline is None:
            continue
        for result in baseline.tasks:
            pairs = [(run, _result(run, result.task)) for run in group]
            pairs = [(run, r) for run, r in pairs if r is not None]
            pairs.sort(key=lambda pair: pair[0] is not baseline)
            out.append(_summary(model, pairs, names, alpha, resamples, seed))
    return out


def _result(run: ModelRun, task: str) -> TaskResult | None:
    return next((t for t in run.tasks if t.task == task), None)


def _summary(model, pairs, names, alpha, resamples, seed) -> DeploySummary:
    alone = Results([ModelRun(run.model, run.embedding, [result]) for run, result in pairs])
    comparison = compare(alone, alpha=alpha, resamples=resamples, seed=seed)[0]
    base_bytes = pairs[0][0].model["deploy"]["bytes_per_vector"]
    documents = pairs[0][1].counts.get("documents")
    # faster counts as cheaper only where ms per query mean something (`MEANINGFUL_DOCUMENTS`)
    base_ms = pairs[0][1].timings.get("ms_per_query_single") if (documents or 0) >= MEANINGFUL_DOCUMENTS else None
    base_encode = pairs[0][1].timings.get("encode_ms_per_query")
    rows = []
    for (run, result), compared in zip(pairs, comparison.rows):
        variant = {k: v for k, v in run.model["deploy"].items() if k not in ("knobs", "of", "baseline")}
        ms, encode = result.timings.get("ms_per_query_single"), result.timings.get("encode_ms_per_query")
        cheaper = variant["bytes_per_vector"] < base_bytes or (ms is not None and base_ms is not None and ms < base_ms) \
            or (encode is not None and base_encode is not None and encode < base_encode)
        rows.append(VariantRow(names[id(run)], variant, compared.mean, compared.ci, compared.delta,
                               compared.p_holm, not compared.significant, result.counts.get("index_bytes"),
                               result.timings.get("ms_per_query_batch"), ms,
                               result.scores.get("neighbour_recall@10"), cheaper, encoder=variant.get("encoder", "torch"),
                               texts_per_second=result.timings.get("encode_texts_per_second"), encode_ms=encode,
                               model_bytes=run.model.get("model_bytes")))
    _mark_frontiers(rows)
    rows[1:] = sorted(rows[1:], key=lambda r: (r.variant["bytes_per_vector"], r.ms_single or 0.0, -r.mean))
    task = pairs[0][1]
    summary = DeploySummary(task.task, comparison.metric, comparison.queries, model, rows[0].name, alpha, rows,
                            _prompt_notes(rows, comparison.metric, task.task), task.counts.get("documents"))
    summary.notes += _latency_notes(summary)
    summary.recommendation = recommend(summary)
    summary.encoder_recommendation = recommend_encoder(summary)
    return summary


def _mark_frontiers(rows: list[VariantRow]) -> None:
    """Pareto frontier: no other variant scores at least as high for no more cost (bytes; ms per query)."""
    for row in rows:
        row.frontier_bytes = not any(_dominates(o, row, lambda r: r.variant["bytes_per_vector"]) for o in rows)
        if row.ms_single is not None:
            row.frontier_ms = not any(o.ms_single is not None and _dominates(o, row, lambda r: r.ms_single)
                                      for o in rows)
        if row.encode_ms is not None:
            row.frontier_encode = not any(o.encode_ms is not None and _dominates(o, row, lambda r: r.encode_ms)
                                          for o in rows)


def _dominates(other: VariantRow, row: VariantRow, cost) -> bool:
    if other is row:
        return False
    return other.mean >= row.mean and cost(other) <= cost(row) and (other.mean > row.mean or cost(other) < cost(row))


def _prompt_notes(rows: list[VariantRow], metric: str, task: str) -> list[str]:
    """A warning when another query prompt scores significantly better than the configured one."""
    notes = []
    for row in rows[1:]:
        if row.variant.get("prompt") == "configured" or row.tied or row.delta is None or row.delta.mean <= 0:
            continue
        prompt = row.variant["prompt"]
        notes.append(f"{task}: queries {'without a prompt' if not prompt else f'with the prompt {prompt!r}'} score "
                     f"{100 * row.mean:.2f} {metric}, above the configured prompt's {100 * rows[0].mean:.2f} "
                     f"(Δ {100 * row.delta.mean:+.2f}, CI {100 * row.delta.low:+.2f} to {100 * row.delta.high:+.2f}, "
                     "Holm-corrected): the configured query prompt is not the best here")
    return notes


def variant_label(variant: dict[str, Any]) -> str:
    """`@256 int8 hnsw` (and the query prompt when it is not the configured one, the backend when it is not torch)."""
    encoder = variant.get("encoder", "torch")
    return _label(variant["dimension"], variant["precision"], variant.get("prompt", "configured"), variant["index"]) \
        + ("" if encoder == "torch" else f" backend:{encoder}")


def _label(dimension: int, precision: str, prompt: str, index: str | None = None) -> str:
    tail = "" if prompt == "configured" else " prompt:" + (repr(prompt) if prompt else "none")
    return f"@{dimension} {precision}{f' {index}' if index else ''}{tail}"


def holds(row: VariantRow) -> bool:
    """Not significantly worse than the baseline (tied, or significantly better)."""
    return row.delta is not None and (row.tied or row.delta.mean > 0)


def _cost(summary: DeploySummary):
    """What 'cheaper' means on a task: bytes per vector, then ms per query where it means something, else exact
    search first (an approximate index buys nothing that can be measured here), then the index's bytes."""
    def key(row: VariantRow):
        speed = (row.ms_single or 0.0) if summary.latency_meaningful else float(row.variant["index"] != "exact")
        return (row.variant["bytes_per_vector"], speed, row.index_bytes or 0)
    return key


def recommend(s: DeploySummary) -> str:
    """The cheapest variant that holds against the baseline and is cheaper, with what it saves and what the CI of
    its difference leaves open; or the baseline, with the closest cheaper variant's loss."""
    base = s.rows[0]
    best, closest = _cheapest_holding([r for r in s.rows[1:] if not is_encoder_row(r)], base, _cost(s))
    if best is None:
        if closest is None:
            return f"{s.task}: keep the baseline ({variant_label(base.variant)}): no cheaper variant was tried"
        return (f"{s.task}: keep the baseline ({variant_label(base.variant)}): every cheaper variant scores "
                f"significantly lower (the closest, {variant_label(closest.variant)}: {_delta(closest)})")
    better = [r for r in s.rows[1:] if r.delta is not None and not r.tied and r.delta.mean > 0]
    return (f"{s.task}: {variant_label(best.variant)}: {_savings(best, base, s)}; "
            f"{'significantly better than' if best in better else 'not significantly different from'} the baseline "
            f"({_delta(best)}){_open(best, s)}")


def _cheapest_holding(rows: list[VariantRow], base: VariantRow, cost) -> tuple[VariantRow | None, VariantRow | None]:
    """Of the rows cheaper than the baseline by `cost`: the cheapest that holds against it (None: none holds), and the
    best-scoring one (None: none is cheaper), the closest to holding."""
    cheaper = [r for r in rows if cost(r) < cost(base)]
    held = sorted((r for r in cheaper if holds(r)), key=cost)
    return (held[0] if held else None), (max(cheaper, key=lambda r: r.mean) if cheaper else None)


def _savings(row: VariantRow, base: VariantRow, s: DeploySummary) -> str:
    size, base_size = row.variant["bytes_per_vector"], base.variant["bytes_per_vector"]
    parts = [f"{size:,g} bytes per vector instead of {base_size:,g} ({base_size / size:.3g}x smaller)"
             if size < base_size else f"{size:,g} bytes per vector, as the baseline"]
    if s.latency_meaningful and row.ms_single and base.ms_single and row.ms_single < base.ms_single:
        parts.append(f"{row.ms_single:.3g} ms per query instead of {base.ms_single:.3g}")
    return ", ".join(parts)


def _delta(row: VariantRow) -> str:
    return (f"Δ {100 * row.delta.mean:+.2f}, 95% CI {100 * row.delta.low:+.2f} to {100 * row.delta.high:+.2f}, "
            f"p={row.p_holm:.3g}")


def _open(row: VariantRow, s: DeploySummary) -> str:
    """What a tie leaves open: the loss its CI does not rule out, when that is more than a point."""
    if row.tied and 100 * row.delta.low < -1:
        return f": a loss of up to {-100 * row.delta.low:.2f} points is not ruled out on {s.queries:,} queries"
    return ""


def recommend_encoder(s: DeploySummary) -> str:
    """With encoder rows: the fastest encoder (ms per query at batch 1) that holds against the baseline and is faster
    than it, with its speed-up and what the CI of its difference leaves open; or torch, with the closest faster
    encoder's loss. Empty without encoder rows."""
    base, rows = s.rows[0], [r for r in s.rows[1:] if is_encoder_row(r) and r.encode_ms is not None]
    if not rows or base.encode_ms is None:
        return ""
    best, closest = _cheapest_holding(rows, base, lambda r: r.encode_ms)
    if best is None:
        if closest is None:
            return f"{s.task}: encoder: keep torch: no other backend tried encodes a query faster here"
        return (f"{s.task}: encoder: keep torch: every faster backend scores significantly lower (the closest, "
                f"{closest.encoder}: {_delta(closest)})")
    width = "" if best.variant["dimension"] == base.variant["dimension"] else \
        f", {best.variant['bytes_per_vector']:,g} bytes per vector"
    rate = f", {best.texts_per_second:,.0f} texts/s instead of {base.texts_per_second:,.0f}" \
        if best.texts_per_second and base.texts_per_second else ""
    verdict = "not significantly different from" if best.tied else "significantly better than"
    return (f"{s.task}: encoder {best.encoder}: {_times(base.encode_ms / best.encode_ms)} faster per query "
            f"({best.encode_ms:.3g} ms instead of {base.encode_ms:.3g}{rate}{width}); {verdict} torch "
            f"({_delta(best)}){_open(best, s)}")


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.3g}x"


def overall_encoder(summaries: list[DeploySummary]) -> str | None:
    """For a sweep of several tasks with encoder rows: the backend faster than torch on every task that holds on
    every task, the one with the largest smallest speed-up; or torch."""
    if len(summaries) < 2 or not any(is_encoder_row(r) for s in summaries for r in s.rows):
        return None
    speedups: dict[str, list[float]] = {}  # encoder -> its speed-up on each task where it is faster and holds
    for s in summaries:
        base = s.rows[0]
        for row in s.rows[1:]:
            if is_encoder_row(row) and holds(row) and row.encode_ms and base.encode_ms and row.encode_ms < base.encode_ms:
                speedups.setdefault(row.encoder, []).append(base.encode_ms / row.encode_ms)
    everywhere = {encoder: min(up) for encoder, up in speedups.items() if len(up) == len(summaries)}
    if not everywhere:
        return "overall encoder: keep torch: no faster backend holds on every task"
    best = max(everywhere, key=everywhere.__getitem__)
    return (f"overall encoder: {best}: at least {_times(everywhere[best])} faster per query than torch, not "
            f"significantly worse on any of the {len(summaries)} tasks")


def overall(summaries: list[DeploySummary]) -> str | None:
    """For a sweep of several tasks: the cheapest vector format (dimensions, precision, prompt) that holds on every
    task, and the cheaper formats that hold on some tasks but are significantly worse on others."""
    if len(summaries) < 2:
        return None
    verdicts: dict[tuple, dict[str, VariantRow | None]] = {}  # format -> task -> its best row that holds (or None)
    failed: dict[tuple, dict[str, VariantRow]] = {}  # format -> task -> its closest row, significantly worse
    for s in summaries:
        for row in s.rows[1:]:
            if is_encoder_row(row):  # chosen apart (`overall_encoder`)
                continue
            key = _format(row)
            per_task = verdicts.setdefault(key, {})
            if holds(row):
                per_task[s.task] = row
                continue
            per_task.setdefault(s.task, None)
            closest = failed.setdefault(key, {}).get(s.task)
            if closest is None or row.mean > closest.mean:
                failed[key][s.task] = row
    base = summaries[0].rows[0]
    everywhere = [key for key, per_task in verdicts.items()
                  if len(per_task) == len(summaries) and all(per_task.values()) and key[1] < _format(base)[1]]
    chosen = min(everywhere, key=lambda key: key[1]) if everywhere else None
    limit = chosen[1] if chosen else _format(base)[1]
    mixed = sorted((key for key, per_task in verdicts.items() if key[1] < limit and any(per_task.values())
                    and not all(per_task.values())), key=lambda key: key[1])
    lines = [f"overall: {_format_label(chosen)}: {limit:,g} bytes per vector instead of {_format(base)[1]:,g} "
             f"({_format(base)[1] / limit:.3g}x smaller), not significantly worse than the baseline on any of the "
             f"{len(summaries)} tasks" if chosen else
             f"overall: keep the baseline ({_format_label(_format(base))}): no cheaper vector format holds on every "
             f"task"]
    for key in mixed[:3]:
        good = [task for task, row in verdicts[key].items() if row is not None]
        bad = [f"{task} ({_delta(failed[key][task])})" for task, row in verdicts[key].items() if row is None]
        lines.append(f"{_format_label(key)} holds on {', '.join(good)} but is significantly worse on {', '.join(bad)}")
    return "; ".join(lines)


def _format(row: VariantRow) -> tuple:
    """A vector format: what is stored per document (the index aside)."""
    v = row.variant
    return (v["dimension"], v["bytes_per_vector"], v["precision"], v.get("prompt", "configured"))


def _format_label(key: tuple) -> str:
    dimension, _, precision, prompt = key
    return _label(dimension, precision, prompt)


def _latency_notes(s: DeploySummary) -> list[str]:
    """A warning where index latencies are measured on a corpus too small for them to mean anything."""
    indexed = [r for r in s.rows if r.variant["index"] != "exact"]
    if not indexed or s.documents is None or s.latency_meaningful:
        return []
    return [f"{s.task}: {s.documents:,} documents: the indexes' ms per query say nothing about a deployment here "
            f"(below {MEANINGFUL_DOCUMENTS:,} documents an exact scan takes microseconds and an index's fixed costs "
            "dominate); their recall and the scores stand, and the recommendation does not rely on latency: measure "
            "the indexes' speed on a corpus of the deployed size"]
