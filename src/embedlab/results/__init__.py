"""Evaluation results: scores, per-query values and provenance, as JSON."""

from embedlab.results.results import ModelRun, Results, TaskResult

__all__ = ["ModelRun", "Results", "TaskResult"]
