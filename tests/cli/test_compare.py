"""`compare`, `report` and `leaderboard` read saved files only: they never import torch."""

from __future__ import annotations

import json
import os
import re
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


def test_report_output_format_from_the_suffix_or_forced(saved):
    from embedlab.cli.compare import report_command

    a = saved / "A.json"
    out = invoke(report_command, a, "-o", saved / "r.htm", "-o", saved / "r.markdown", "-o", "-")
    assert out.exit_code == 0, out.output
    assert (saved / "r.htm").read_text().startswith("<!doctype html>")
    assert (saved / "r.markdown").read_text().startswith("# embedlab report") and out.stdout.startswith("# embedlab")
    assert "html report written to" in out.stderr and "markdown report written to" in out.stderr
    forced = invoke(report_command, a, "-o", saved / "page.txt", "--format", "html")
    assert forced.exit_code == 0 and (saved / "page.txt").read_text().startswith("<!doctype html>")
    unknown = invoke(report_command, a, "-o", saved / "r.txt")
    assert unknown.exit_code == 2 and "name it .html or .md, or give --format html|markdown" in unknown.stderr
    assert invoke(report_command, a).exit_code == 2  # no output asked for
    shown = invoke(report_command, "--help").output
    assert "-o, --output" in shown and "--html" not in shown and not re.search(r"--markdown(?![\w-])", shown)


def test_report_refuses_an_existing_file_or_an_input_before_any_work(saved):
    from embedlab.cli.compare import report_command

    a, existing = saved / "A.json", saved / "r.md"
    existing.write_text("mine")
    refused = invoke(report_command, a, "-o", saved / "new.html", "-o", existing)
    assert refused.exit_code == 2 and refused.stderr.splitlines()[-1] == (
        f"error: {existing}: already exists (pass --overwrite to replace it)")
    assert existing.read_text() == "mine" and not (saved / "new.html").exists()  # checked before any work
    assert invoke(report_command, a, "-o", existing, "--overwrite").exit_code == 0
    assert existing.read_text().startswith("# embedlab report")
    before = a.read_bytes()
    onto_input = invoke(report_command, a, "--curve", saved / "curve.json", "-o", a, "--format", "markdown",
                        "--overwrite")
    assert onto_input.exit_code == 2 and "would overwrite or change the input" in onto_input.stderr
    onto_curve = invoke(report_command, a, "--curve", saved / "curve.json", "-o", saved / "curve.json",
                        "--format", "markdown", "--overwrite")
    assert onto_curve.exit_code == 2 and a.read_bytes() == before


def test_report_old_html_and_markdown_options_still_write_with_a_note(saved):
    from embedlab.cli.compare import report_command

    old = invoke(report_command, saved / "A.json", "--html", saved / "page.out", "--markdown", "-")
    assert old.exit_code == 0, old.output
    assert (saved / "page.out").read_text().startswith("<!doctype html>")  # the option's format, not the suffix's
    assert old.stdout.startswith("# embedlab report")
    assert NOTE.format("--html", "--output") in old.stderr and NOTE.format("--markdown", "--output") in old.stderr


def test_report_into_a_folder_that_does_not_exist_yet(saved):
    """The first release computed everything, then crashed on `--markdown /nonexistent/x.md`."""
    from embedlab.cli.compare import report_command

    target = saved / "new" / "dir" / "report.md"
    result = invoke(report_command, saved / "A.json", "-o", target)
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("# embedlab report")
