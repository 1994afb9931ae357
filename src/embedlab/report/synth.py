"""What `embedlab synth` prints: the set written (queries, what each filter removed, the copied share), and the
validation against human labels (the two rankings, tau and rho with their CIs, the decisions that flip, each set's
difficulty). Plain data in (the provenance dict, a `Validation`), lines of text out; scores x100."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embedlab.results.stats import Interval
from embedlab.results.table import short_name

BAR = "▁▂▃▄▅▆▇█"


def columns(rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    """Rows of cells as aligned lines (columns in `right` aligned right)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            .rstrip() for row in rows]


def synth_lines(provenance: dict[str, Any], output: Path) -> list[str]:
    source, generator = provenance["source"], provenance["generator"]
    skipped = "; ".join(f"{n:,} {why}" for why, n in provenance["skipped_passages"].items())
    lines = [f"{provenance['queries']:,} queries written to {output} ({provenance['drafts']:,} drafted by "
             f"{generator['name']} for {source['sampled']:,} of {source['passages']:,} passages, seed "
             f"{provenance['seed']}" + (f"; passages skipped: {skipped}" if skipped else "") + ")"]
    asking = generator.get("asking")
    if asking:
        unusable = ", ".join(f"{n} {why}" for why, n in asking["unusable_by_reason"].items()) or "none"
        lines.append(f"asked {asking['asked']:,} prompts ({asking['asked_again']:,} again after an unusable answer), "
                     f"{asking['from_cache']:,} answers from the cache; unusable in the end: {unusable}; tokens: "
                     f"{asking['prompt_tokens']:,} prompt, {asking['completion_tokens']:,} written")
    rows = [["filter", "on", "removed", "what"]]
    rows += [[step["filter"], _on(step), f"{step['removed']:,}", _what(step)] for step in provenance["filters"]["steps"]]
    lines += columns(rows, right={2})
    lines.append(copied_line(provenance["filters"]["too_easy"]))
    if provenance.get("reranking_rows"):
        rows_made = provenance["reranking_rows"]
        lines.append(f"reranking rows: {rows_made['rows']:,} in {output / rows_made['file']} ({rows_made['negatives']:,} "
                     f"negatives mined with {short_name(rows_made['model'])}, {rows_made['likely_false_negatives_dropped']:,} "
                     "likely false negatives dropped)")
    return lines


def _on(step: dict) -> str:
    return "n/a" if step.get("not_applied") else "yes" if step["on"] else "no"


def _what(step: dict) -> str:
    name = step["filter"]
    if name == "empty":
        return "no word character"
    if name == "length":
        return "over --max-query-chars"
    if name == "language":
        return step.get("not_applied") or "another script than the passage's (or --language)"
    if name == "duplicates":
        how = f"then cosine >= {step['cosine']:g}" if step.get("by_cosine") else \
            f"(not by cosine: {step['not_by_cosine']})" if step.get("not_by_cosine") else ""
        return f"same normalised text {how}".strip()
    if name == "too-easy":
        return f"more than {step['threshold']:g} of the query copied from its document"
    found = ", ".join(f"{short_name(model)} {n:,}" for model, n in step.get("found_by", {}).items())
    return f"document not in the top {step['k']} of any retriever" + (f" (found by {found})" if found else "")


def copied_line(distribution: dict) -> str:
    """The copied share's distribution in one line: mean, median, p90, a histogram in tenths, above the threshold."""
    if not distribution.get("queries"):
        return "copied share: no query"
    counts = distribution["histogram"]
    top = max(counts) or 1
    spark = "".join(BAR[min(len(BAR) - 1, round(c / top * (len(BAR) - 1)))] if c else " " for c in counts)
    return (f"copied from the document (too-easy share): mean {distribution['mean']:.2f}, median "
            f"{distribution['median']:.2f}, p90 {distribution['p90']:.2f}; 0 |{spark}| 1; above "
            f"{distribution['threshold']:g}: {distribution['above_threshold']:,} of {distribution['queries']:,}")


def validation_lines(v: Any) -> list[str]:
    """The validation (a `synth.validate.Validation`) as text."""
    level = f"{100 * v.confidence:g}%"
    lines = [f"synthetic {v.synthetic.task} ({v.synthetic.metric}, {v.synthetic.queries:,} queries) against human "
             f"{v.human.task} ({v.human.metric}, {v.human.queries:,} queries), {len(v.systems)} systems",
             f"Kendall tau {_agreement(v.tau, level)}; Spearman {_agreement(v.spearman, level)} "
             f"(bootstrap over both sets' queries, {v.resamples:,} resamples)"]
    rank = {role: sorted(v.systems, key=lambda s: -getattr(v, role).means[s].mean) for role in ("human", "synthetic")}
    rows = [["system", "human", f"{level} CI", "rank", "synthetic", f"{level} CI", "rank"]]
    for system in rank["human"]:
        rows.append([short_name(system)] + [cell for role in ("human", "synthetic") for cell in (
            f"{100 * getattr(v, role).means[system].mean:.2f}", _ci(getattr(v, role).means[system]),
            str(rank[role].index(system) + 1))])
    lines += columns(rows, right={1, 2, 3, 4, 5, 6})
    flips = v.flips()
    lines.append(f"pairwise decisions that flip: {len(flips)} of {len(v.pairs)}" + (":" if flips else ""))
    for pair in flips:
        lines.append(f"  {short_name(pair.first)} - {short_name(pair.second)}: human {100 * pair.human.mean:+.2f} "
                     f"({_ci(pair.human, signed=True)}), synthetic {100 * pair.synthetic.mean:+.2f} "
                     f"({_ci(pair.synthetic, signed=True)}); significant on {pair.significant}")
    for scores in (v.human, v.synthetic):
        gap = "" if scores.gap is None else (
            f"; {short_name(scores.gap_between[0])} - {short_name(scores.gap_between[1])} (lexical - dense) "
            f"{100 * scores.gap.mean:+.2f} ({_ci(scores.gap, signed=True)})")
        lines.append(f"difficulty, {scores.role}: mean over systems {100 * scores.level:.2f}, best "
                     f"{short_name(scores.best)} {100 * scores.means[scores.best].mean:.2f}{gap}")
    return lines + [f"note: {note}" for note in v.notes]


def _agreement(a: Any, level: str) -> str:
    return f"{a.value:.2f} ({level} CI {a.low:.2f} to {a.high:.2f})"


def _ci(interval: Interval, signed: bool = False) -> str:
    if signed:
        return f"{100 * interval.low:+.2f} to {100 * interval.high:+.2f}"
    return f"{100 * interval.low:.2f}–{100 * interval.high:.2f}"
