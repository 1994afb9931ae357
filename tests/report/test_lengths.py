"""report/lengths.py: histograms of text lengths from an Inspection, as a PNG."""

from __future__ import annotations

import io

import pytest

from embedlab.quality import inspect_rows
from tests.conftest import RERANK_ROWS, write_jsonl


def test_a_png_with_a_panel_per_kind(tmp_path):
    pytest.importorskip("matplotlib")
    from embedlab.report.lengths import plot_lengths

    inspection = inspect_rows(write_jsonl(tmp_path / "rows.jsonl", RERANK_ROWS))
    target = plot_lengths(inspection, tmp_path / "lengths.png")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    buffer = io.BytesIO()
    plot_lengths(inspection, buffer)  # or a binary file object
    assert buffer.getvalue()[:4] == b"\x89PNG"
