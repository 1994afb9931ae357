"""`compare`, `report` and `leaderboard` read saved files only: they never import torch."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from embedlab import evaluate
from embedlab.demo import RERANKING, RETRIEVAL
from tests.cli.test_main import run
from tests.conftest import FakeEncoder
from tests.report.test_page import _curve

HEAVY = ("torch", "sentence_transformers")
CHECK = """
import sys
from embedlab.cli.main import cli
code = cli(sys.argv[1:], prog_name="embedlab", standalone_mode=False)
heavy = [name for name in {heavy!r} if name in sys.modules]
assert not heavy, f"imported {{heavy}}"
sys.exit(code or 0)
"""


def run_without_torch(*args):
    """The command in a fresh interpreter; fails if torch or sentence-transformers got imported."""
    return subprocess.run([sys.executable, "-c", CHECK.format(heavy=HEAVY), *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=120)


@pytest.fixture
def saved(tmp_path):
    """Two results files of a fake encoder and a curve file."""
    other = FakeEncoder(query_prefix="zz ")
    other.name = "fake-with-prefix"
    evaluate(FakeEncoder(), [RERANKING, RETRIEVAL]).to_json(tmp_path / "A.json")
    evaluate(other, [RERANKING, RETRIEVAL]).to_json(tmp_path / "B.json")
    curve = _curve()
    curve.path = tmp_path / "curve.json"
    curve.save()
    return tmp_path


def test_report_and_compare_do_not_import_torch(saved):
    a, b = saved / "A.json", saved / "B.json"
    help_ = run_without_torch("report", "--help")
    assert help_.returncode == 0, help_.stderr
    assert "--markdown" in help_.stdout
    compared = run_without_torch("compare", a, b)
    assert compared.returncode == 0, compared.stderr
    assert "demo/reranking: MAP (C-MTEB v1), 37 queries, Δ vs baseline fake-bigram" in compared.stdout
    report = run_without_torch("report", a, "--markdown", "-")
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("# embedlab report")
    full = run_without_torch("report", a, b, "--curve", saved / "curve.json", "--html", saved / "r.html",
                             "--markdown", saved / "r.md")
    assert full.returncode == 0, full.stderr
    assert "Fine-tuning curve: test/v1.map" in (saved / "r.md").read_text()
    assert (saved / "r.html").read_text().startswith("<!doctype html>")
    assert run_without_torch("leaderboard", saved).returncode == 0


def test_a_truncated_curve_or_results_file_is_one_line_naming_it(saved):
    curve = saved / "curve.json"
    curve.write_text(curve.read_text()[:40])
    out = run("report", saved / "A.json", "--curve", curve, "--markdown", "-")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert str(curve) in out.stderr and "invalid JSON" in out.stderr
    out = run("compare", saved / "A.json", curve)
    assert out.returncode == 2 and str(curve) in out.stderr and "not a readable results file" in out.stderr
    out = run("report", saved / "A.json", "--curve", saved / "B.json", "--markdown", "-")
    assert out.returncode == 2 and "not a fine-tuning curve" in out.stderr
