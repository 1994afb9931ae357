"""`eval --engine ray` as a user runs it (subprocess, on the session's cluster through --ray-address): the same
scores as in process, a rerun that encodes no document, and bad input as one line with exit 2."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.cli.test_main import run


def scores(path):
    return {(t["task"], name): value for r in json.loads(path.read_text())["runs"] for t in r["tasks"]
            for name, value in t["scores"].items()}


def test_eval_on_ray_scores_as_in_process_and_resumes(ray_cluster, tiny_model, rerank_file, retrieval_dir, tmp_path):
    data = ["-m", str(tiny_model), "--reranking", str(rerank_file), "--retrieval", str(retrieval_dir), "-q"]
    local = run("eval", *data, "-o", str(tmp_path / "local.json"))
    assert local.returncode == 0, local.stderr
    address = ray_cluster.get_runtime_context().gcs_address
    ray = [*data, "--engine", "ray", "--ray-address", address, "--workers", "2", "--vectors", str(tmp_path / "v")]
    first = run("eval", *ray, "-o", str(tmp_path / "ray.json"))
    assert first.returncode == 0, first.stderr
    expected, got = scores(tmp_path / "local.json"), scores(tmp_path / "ray.json")
    assert got.keys() == expected.keys() and all(got[k] == pytest.approx(expected[k], abs=1e-6) for k in got)
    again = run("eval", *ray, "-o", str(tmp_path / "again.json"))
    assert again.returncode == 0, again.stderr
    before = json.loads((tmp_path / "ray.json").read_text())["runs"][0]["embedding"]
    work = json.loads((tmp_path / "again.json").read_text())["runs"][0]["embedding"]
    # every document is read from the shards; only the queries are encoded again (on the driver)
    assert before["cache_hits"] == 0 and work["cache_hits"] > 0
    assert work["texts_encoded"] + work["cache_hits"] == before["texts_encoded"]
    assert scores(tmp_path / "again.json") == got
    model = json.loads((tmp_path / "ray.json").read_text())["runs"][0]["model"]
    assert model["engine"] == {"name": "ray", "workers": 2, "gpus_per_worker": 0.0, "address": address,
                               "vectors": str(tmp_path / "v")}  # how the vectors were made is recorded
    assert "engine" not in json.loads((tmp_path / "local.json").read_text())["runs"][0]["model"]


def test_bad_engine_input_is_one_line(tmp_path, monkeypatch):
    out = ["-q", "-o", str(tmp_path / "r.json")]
    for args, message in [(["--workers", "2"], "--workers needs --engine ray"),
                          (["--engine", "ray", "--vectors", str(tmp_path / "v"), "-m", "a", "-m", "b"],
                           "--vectors holds one model's vectors"),
                          (["--engine", "ray", "--ray-address", "127.0.0.1:1", "--vectors", str(tmp_path / "v")],
                           "no Ray cluster answers there"),
                          (["--engine", "ray", "--ray-address", "auto"], "--ray-address needs --vectors DIR"),
                          (["--engine", "ray", "-m", "openai:m", "--base-url", "http://127.0.0.1:1/v1",
                            "--api-key-env", "PATH"], "cannot be loaded on Ray workers")]:
        result = run("eval", "--demo", *out, *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("address", ["ray://10.255.255.1:10001", "10.255.255.1:6379"])
def test_a_ray_address_without_a_cluster_is_one_line_before_any_model_loads(rerank_file, tmp_path, address):
    """Issue 24 item 17: `ray://...` without ray[client] was a traceback after the model loaded, an unroutable
    address exit 1 after 98 s. The model named here does not exist: had it been loaded first, its error would show."""
    started = time.monotonic()
    result = run("eval", "-m", str(tmp_path / "no-such-model"), "--reranking", str(rerank_file), "--engine", "ray",
                 "--ray-address", address, "--vectors", str(tmp_path / "v"), "-q", "-o", str(tmp_path / "r.json"))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert re.fullmatch(f"error: --ray-address {re.escape(address)}: (a ray:// address connects through Ray Client, "
                        r"which needs ray\[client\]|no Ray cluster answers there).*\n", result.stderr), result.stderr
    assert time.monotonic() - started < 20 and not (tmp_path / "r.json").exists()
