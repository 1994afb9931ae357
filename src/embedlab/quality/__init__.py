"""Data quality: inspect rows or a retrieval folder (findings with codes, counts and locations), leakage
between two files, and cleaned copies with a log of every change.

    from embedlab.quality import against, fix, inspect_path
    inspection = against(inspect_path("train.jsonl"), "test.jsonl")
    fix("train.jsonl", "clean.jsonl")   # also clean.changes.jsonl
"""

from embedlab.quality.changes import ACTIONS, FixResult, default_log_path
from embedlab.quality.findings import MESSAGES, SEVERITIES, Example, Finding, Inspection
from embedlab.quality.fix import fix
from embedlab.quality.inspect import against, inspect_path, inspect_rows
from embedlab.quality.inspect_retrieval import inspect_retrieval

__all__ = ["ACTIONS", "MESSAGES", "SEVERITIES", "Example", "Finding", "FixResult", "Inspection", "against",
           "default_log_path", "fix", "inspect_path", "inspect_retrieval", "inspect_rows"]
