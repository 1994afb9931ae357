"""The notes a run's results call for, one line each (the CLI prints them on stderr after `eval`): rows skipped,
queries without a relevant document, samples, run files that do not cover a task, API usage, truncated texts and
what an approximate index cost."""

from __future__ import annotations

from typing import Any

from embedlab.results.query_diff import coverage_notes
from embedlab.results.results import Results
from embedlab.tasks.sampling import sample_note


def result_notes(results: Results) -> list[str]:
    notes = []
    for t in results.runs[0].tasks if results.runs else []:
        skipped = {k.removeprefix("skipped_"): v for k, v in t.counts.items() if k.startswith("skipped_") and v}
        if skipped:
            detail = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in skipped.items())
            notes.append(f"{t.task}: skipped {detail} (as mteb does)")
        if t.counts.get("queries_without_relevant"):
            notes.append(f"{t.task}: {t.counts['queries_without_relevant']:,} of {t.counts['queries']:,} queries have "
                         "no relevant document (every judgment 0): they score 0 in every mean, as in mteb and "
                         "pytrec_eval (`embedlab inspect` lists them)")
        if t.sample:
            notes.append(f"{t.task}: {sample_note(t.sample)}")
    notes += coverage_notes(results)
    for run in results.runs:
        usage = run.model.get("usage")
        if usage:
            truncated = usage.get("truncated", 0)
            notes.append(f"{run.model['name']}: {usage_events(usage)}, "
                         f"{usage['prompt_tokens']:,} tokens billed, {run.embedding['cache_hits']:,} texts from the "
                         "cache" + (f"; {truncated:,} texts truncated to the model's limit" if truncated else ""))
        for task, cost in run.embedding.get("approximate_search", {}).items():
            notes.append(f"{run.model['name']} on {task}: {cost_note(cost)}")
    return notes


def cost_note(cost: dict[str, Any]) -> str:
    """One line: what the approximate search cost on a task (`ApproximateSearch.costs[task]`)."""
    recall = next(key for key in cost if key.startswith("recall@"))
    change = next(key for key in cost if key.endswith("_change"))
    low, high = cost[change + "_ci95"]
    return (f"{cost['method']}: {recall.removesuffix('_vs_exact')} {cost[recall]:.4f} against exact search, "
            f"{change.removesuffix('_change')} {cost[change]:+.4f} [{low:+.4f}, {high:+.4f}] on "
            f"{cost['queries_sampled']:,} sampled queries (seeded)")


def usage_events(usage: dict[str, Any]) -> str:
    """`183 requests (12 retried, 4 timed out, 2 split)`: what an API client did, every count it keeps."""
    events = [f"{usage[key]:,} {word}" for key, word in (("retries", "retried"), ("timeouts", "timed out"),
                                                        ("splits", "split")) if usage.get(key)]
    return f"{usage['requests']:,} requests" + (f" ({', '.join(events)})" if events else " (0 retried)")
