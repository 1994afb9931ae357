import json

from tests.cli.test_main import run


def test_export_writes_mteb_files_and_refuses_to_replace_them(run_file, tmp_path):
    out = tmp_path / "mteb" / "results"
    first = run("export-mteb", str(run_file), "-o", str(out))
    assert first.returncode == 0, first.stderr
    target = out / "fake-bigram" / "no_revision_available" / "Custom-demo_reranking.json"
    assert first.stdout.split("\t")[:2] == [str(target), "Custom-demo_reranking"]
    assert json.loads(target.read_text())["task_name"] == "Custom-demo_reranking"
    assert "1 mteb result file(s) written" in first.stderr
    again = run("export-mteb", str(run_file), "-o", str(out))
    assert again.returncode == 2 and "Custom-demo_reranking.json: already exists" in again.stderr
    assert "--overwrite" in again.stderr
    replaced = run("export-mteb", str(run_file), "-o", str(out), "--overwrite", "--format", "json")
    assert replaced.returncode == 0 and json.loads(replaced.stdout)[0]["task"] == "Custom-demo_reranking"
    named = run("export-mteb", str(run_file), "-o", str(out), "--name", "me/fake", "--revision", "v1")
    assert named.returncode == 0 and (out / "me__fake" / "v1" / "model_meta.json").exists()
    assert run("export-mteb", str(run_file), "-o", str(run_file)).returncode == 2  # a file, not a folder


def test_a_colleagues_export_of_the_same_custom_data_sits_beside_unlabelled(run_file, tmp_path):
    exported = run("export-mteb", str(run_file), "-o", str(tmp_path / "shared" / "results"), "--name", "colleague/m")
    assert exported.returncode == 0, exported.stderr
    out = run("leaderboard", str(run_file.parent), "--mteb", str(tmp_path / "shared"), "--format", "json")
    rows = json.loads(out.stdout)["rows"]
    assert [r["model"] for r in rows] == ["fake-bigram", "colleague/m"]
    assert rows[0]["scores"] == rows[1]["scores"] and rows[0]["data"] == rows[1]["data"]  # the same data: no label
    assert json.loads(out.stdout)["variants"] == {} and rows[1]["marks"] == {}  # v1 scores kept by the export
    mrr = run("leaderboard", str(run_file.parent), "--mteb", str(tmp_path / "shared"), "--metric", "v1.mrr@10",
              "--format", "json")
    rows = json.loads(mrr.stdout)["rows"]
    assert rows[0]["scores"] == rows[1]["scores"] and rows[1]["marks"] == {}
