"""The report page in a real headless browser (Debian's chromium): it renders, logs nothing to the
console, and shows the run's numbers. Skipped where chromium is not installed (`.ci/run` installs it)."""

import re
import shutil
import subprocess

import pytest

from embedlab.report.page import build
from embedlab.results.compare import compare
from tests.report.test_page import _curve, _two_runs

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(*args, timeout=120):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", *args], capture_output=True, text=True, timeout=timeout)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_report_renders_in_chromium_without_console_messages(tmp_path):
    runs = _two_runs()
    page, _ = build(runs, curves=[_curve()])
    (tmp_path / "report.html").write_text(page, encoding="utf-8")
    dom = _chromium("--dump-dom", (tmp_path / "report.html").as_uri())
    assert dom.returncode == 0, dom.stderr[-500:]
    assert console_lines(dom.stderr) == []
    for c in compare(runs):
        assert f"{100 * c.rows[0].mean:.2f}" in dom.stdout and f"{100 * c.rows[1].mean:.2f}" in dom.stdout
    shot = _chromium(f"--screenshot={tmp_path / 'shot.png'}", "--window-size=1200,2400",
                     (tmp_path / "report.html").as_uri())
    assert shot.returncode == 0 and (tmp_path / "shot.png").stat().st_size > 20_000  # plots were drawn
    # the check can fail: a page that logs to the console is caught
    (tmp_path / "bad.html").write_text("<script>console.error('boom')</script>", encoding="utf-8")
    assert console_lines(_chromium("--dump-dom", (tmp_path / "bad.html").as_uri()).stderr)


def test_a_tasks_plots_sit_side_by_side_and_titles_fit(tmp_path):
    """At 1,200 px the bars, distributions and wins of a task share one row (they were stacked in the first
    release), and no plot is wider than the page."""
    page, _ = build(_two_runs())
    probe = ("<script>window.addEventListener('load', () => {const imgs = [...document.querySelectorAll('.plots')][0]"
             ".querySelectorAll('img'); document.body.dataset.tops = [...imgs].map(i => Math.round("
             "i.getBoundingClientRect().top)).join(','); document.body.dataset.widths = [...imgs].map(i => "
             "Math.round(i.getBoundingClientRect().width)).join(',')});</script>")
    (tmp_path / "report.html").write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    dom = _chromium("--dump-dom", "--window-size=1200,2400", (tmp_path / "report.html").as_uri())
    tops = re.search(r'data-tops="([\d,]+)"', dom.stdout).group(1).split(",")
    widths = [int(w) for w in re.search(r'data-widths="([\d,]+)"', dom.stdout).group(1).split(",")]
    assert len(tops) == 3 and len(set(tops)) == 1, tops
    assert all(0 < w <= 1100 for w in widths) and sum(widths) <= 1100, widths


def test_the_queries_section_filters_in_the_browser(tmp_path):
    """The report's queries where two models differ (runs saved by eval --save-run): no console message, and
    typing in the filter box hides the rows that do not hold every word typed."""
    import embedlab
    from embedlab.run.evaluation import RunOptions
    from tests.conftest import FakeEncoder, write_beir

    corpus = {f"d{i}": text for i, text in enumerate(["green tea at 80 degrees", "black tea boiling water",
                                                      "patch the bicycle tube", "cactus needs little water",
                                                      "oil the bicycle chain", "ferns like humid air"])}
    queries = {"q1": "brew green tea", "q2": "flat bicycle tyre", "q3": "water a cactus", "q4": "humid ferns"}
    folder = write_beir(tmp_path / "data", corpus, queries, [("q1", "d0", 1), ("q2", "d2", 1), ("q3", "d3", 1),
                                                             ("q4", "d5", 1), ("q4", "d1", 1)])
    results = embedlab.evaluate([FakeEncoder(), "bm25"], [folder], run=RunOptions(save_run=tmp_path / "runs"))
    page, _ = build([results])
    shown = page.count("<tr><td><b>q")
    assert shown >= 2, "the fixture needs queries the two models differ on"
    probe = ("<script>window.addEventListener('load', () => {const box = document.querySelector('input.qfilter');"
             "const rows = () => [...document.querySelectorAll('table.qdiff tbody tr')].filter(r => !r.hidden).length;"
             "const all = rows(); box.value = 'BICYCLE tyre'; box.dispatchEvent(new Event('input'));"
             "const some = rows(); box.value = ''; box.dispatchEvent(new Event('input'));"
             "document.body.dataset.counts = [all, some, rows()].join(',');});</script>")
    (tmp_path / "report.html").write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    dom = _chromium("--dump-dom", (tmp_path / "report.html").as_uri())
    assert dom.returncode == 0 and console_lines(dom.stderr) == [], dom.stderr[-500:]
    counts = [int(c) for c in re.search(r'data-counts="([\d,]+)"', dom.stdout).group(1).split(",")]
    assert counts == [shown, int("<b>q2</b>" in page), shown]
