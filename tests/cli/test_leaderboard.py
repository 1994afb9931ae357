"""`embedlab leaderboard` from the command line: published scores beside the runs."""

from tests.cli.test_main import run
from tests.results.test_mteb_import import SNAPSHOT


def test_leaderboard_with_published_scores(run_file):
    out = run("leaderboard", str(run_file.parent), "--mteb", str(SNAPSHOT), "--format", "markdown")
    assert out.returncode == 0, out.stderr
    assert "| demo/reranking v1.map |" in out.stdout.splitlines()[0]
    assert "(published)" not in out.stdout  # no published result of custom data
    shown = run("leaderboard", str(run_file.parent), "--mteb", str(SNAPSHOT / "nowhere"))
    assert shown.returncode == 2 and "does not exist" in shown.stderr
