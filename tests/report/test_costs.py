"""The cost table: sizes as people read them, every output's storage, markdown that cannot break."""

from __future__ import annotations

from embedlab.report.costs import cost_cells, markdown_costs
from embedlab.report.markup import human_bytes
from embedlab.results.costs import CostRow


def test_cells_and_markdown():
    row = CostRow("m3", "r", 0.9472, {"dense": 1536.0, "sparse": 97.1, "colbert": 43260.0}, "fused", None, 4.242)
    header, (cells,) = cost_cells([row])
    assert cells == ["m3", "r", "94.72", "1.5 kB (dense) + 97.1 B (sparse) + 43.3 kB (colbert)", "fused", "–", "4.242"]
    lines = markdown_costs([row])
    assert lines[0] == "## What each kind costs" and lines[2].startswith("| model | task | score")
    assert human_bytes(None) == "–" and human_bytes(999) == "999 B" and human_bytes(2_500_000) == "2.5 MB"
