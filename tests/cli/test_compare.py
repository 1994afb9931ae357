"""`compare`, `report` and `leaderboard` read saved files only: they never import torch."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.cli.test_main import run

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




def test_report_and_compare_do_not_import_torch(saved):
    a, b = saved / "A.json", saved / "B.json"
    help_ = run_without_torch("report", "--help")
    assert help_.returncode == 0, help_.stderr
    assert "--output" in help_.stdout
    compared = run_without_torch("compare", a, b)
    assert compared.returncode == 0, compared.stderr
    assert "demo/reranking: MAP (C-MTEB v1), 37 queries, Δ vs baseline fake-bigram" in compared.stdout
    report = run_without_torch("report", a, "-o", "-")
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("# embedlab report")
    full = run_without_torch("report", a, b, "--curve", saved / "curve.json", "-o", saved / "r.html",
                             "-o", saved / "r.md")
    assert full.returncode == 0, full.stderr
    assert "Fine-tuning curve: test/v1.map" in (saved / "r.md").read_text()
    assert (saved / "r.html").read_text().startswith("<!doctype html>")
    assert run_without_torch("leaderboard", saved).returncode == 0


def test_a_truncated_curve_or_results_file_is_one_line_naming_it(saved):
    curve = saved / "curve.json"
    curve.write_text(curve.read_text()[:40])
    out = run("report", saved / "A.json", "--curve", curve, "-o", "-")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert str(curve) in out.stderr and "invalid JSON" in out.stderr
    out = run("compare", saved / "A.json", curve)
    assert out.returncode == 2 and str(curve) in out.stderr and "not a readable results file" in out.stderr
    out = run("report", saved / "A.json", "--curve", saved / "B.json", "-o", "-")
    assert out.returncode == 2 and "not a fine-tuning curve" in out.stderr


NOTE = "note: {} is now {} (the old spelling goes in the next release)"


def invoke(command, *args):
    """In-process, under the main group's error handling (typed errors: one line, exit 2)."""
    from click.testing import CliRunner

    from embedlab.cli.main import _Group

    return CliRunner().invoke(_Group(commands=[command]), [command.name, *map(str, args)])


def test_compare_significance_and_its_old_spelling(saved):
    from embedlab.cli.compare import compare_command

    args = (saved / "A.json", saved / "B.json", "--format", "json")
    new = invoke(compare_command, *args, "--significance", "t")
    old = invoke(compare_command, *args, "--test", "t")
    assert new.exit_code == old.exit_code == 0 and new.stderr == ""
    assert old.stderr == NOTE.format("--test", "--significance") + "\n"
    assert json.loads(new.stdout) == json.loads(old.stdout) and json.loads(new.stdout)[0]["test"] == "t"
    shown = invoke(compare_command, "--help").output
    assert "--significance [permutation|t]" in shown and not re.search(r"--test(?![\w-])", shown)
