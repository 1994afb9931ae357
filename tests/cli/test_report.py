"""`embedlab report` from the command line: the format of each output, outputs checked before any work, old
spellings."""

from __future__ import annotations

import re

from tests.cli.test_compare import NOTE, invoke


def test_report_output_format_from_the_suffix_or_forced(saved):
    from embedlab.cli.report import report_command

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
    from embedlab.cli.report import report_command

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
    from embedlab.cli.report import report_command

    old = invoke(report_command, saved / "A.json", "--html", saved / "page.out", "--markdown", "-")
    assert old.exit_code == 0, old.output
    assert (saved / "page.out").read_text().startswith("<!doctype html>")  # the option's format, not the suffix's
    assert old.stdout.startswith("# embedlab report")
    assert NOTE.format("--html", "--output") in old.stderr and NOTE.format("--markdown", "--output") in old.stderr


def test_report_into_a_folder_that_does_not_exist_yet(saved):
    """The first release computed everything, then crashed on `--markdown /nonexistent/x.md`."""
    from embedlab.cli.report import report_command

    target = saved / "new" / "dir" / "report.md"
    result = invoke(report_command, saved / "A.json", "-o", target)
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("# embedlab report")


def test_the_same_runs_in_two_files_are_one_run_and_the_report_says_so(saved):
    """issue 30, item 5: the runs of A.json given again were `[run 1]` / `[run 2]` and in the Holm correction."""
    import shutil

    shutil.copy(saved / "A.json", saved / "A-again.json")
    args = [str(saved / "A.json"), str(saved / "B.json"), str(saved / "A-again.json")]
    from embedlab.cli.compare import compare_command
    from embedlab.cli.report import report_command

    result = invoke(report_command, *args, "-o", "-", "-q")
    assert result.exit_code == 0, result.output
    note = f"note: {saved / 'A.json'} and {saved / 'A-again.json'} both hold 1 run(s) with the same model"
    assert note in result.stdout and note in result.stderr and "[run" not in result.stdout
    compared = invoke(compare_command, *args, "--format", "json")
    pair = invoke(compare_command, *args[:2], "--format", "json")
    assert note in compared.stderr and compared.stdout == pair.stdout  # compare agrees: the same rows, the same p
