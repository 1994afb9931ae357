"""`--engine ray --vectors s3://...` against a real S3 API (moto's server) and the session's Ray cluster: the workers
write the shards to the bucket, the driver mirrors and memory-maps them, the scores equal the in-process ones, a
rerun on the same prefix encodes no document, credentials in the URI appear nowhere, and bad locations are one
line with exit 2 before any model loads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedlab.embedding.engines import EngineOptions
from embedlab.embedding.engines.store import ShardedStore
from embedlab.embedding.engines.vectors import VectorDirError
from embedlab.embedding.store import EmbeddingStore
from tests.cli.test_main import run
from tests.conftest import FakeEncoder
from tests.embedding.engines.conftest import RayFake

TEXTS = [f"passage {i} on {'tea' if i % 3 else 'bicycles'} " * (1 + i % 4) for i in range(40)]


def test_documents_go_to_the_bucket_and_resume_from_it(ray_cluster, s3_server):
    engine = EngineOptions(workers=2, vectors=s3_server.uri("store"), shard_size=16)
    store = ShardedStore(RayFake(), engine, progress=False)
    reference = EmbeddingStore(FakeEncoder(), progress=False).embed(TEXTS, "document")
    np.testing.assert_allclose(store.embed(TEXTS, "document"), reference, atol=1e-6)
    assert store.stats.encoded == 40 and len(store.vectors.shards) == 2  # 40 texts, shards of 32
    from pyarrow.fs import FileSelector

    names = s3_server.filesystem().get_file_info(FileSelector("embedlab/store"))
    assert "manifest.json" in [i.base_name for i in names] and len(names) == 5  # and two shards: no temporary file
    mirrored = store.vectors.location.mirrored
    assert mirrored == sum(i.size for i in names if i.base_name.endswith(".npy"))  # each shard fetched once
    store.vectors.refresh()  # a shard never changes: a refresh re-reads the local copies, fetches nothing
    assert store.vectors.location.mirrored == mirrored

    again = ShardedStore(RayFake(), engine, progress=False)  # a rerun: every document read from the bucket
    np.testing.assert_allclose(again.embed(TEXTS, "document"), reference, atol=1e-6)
    assert again.stats.encoded == 0 and again.stats.cache_hits == 40


def outcome(path):
    """Scores and per-query values of a results file, by task and metric."""
    saved = json.loads(path.read_text())
    return {(t["task"], kind, name): value for r in saved["runs"] for t in r["tasks"]
            for kind in ("scores", "per_query") for name, value in t.get(kind, {}).items()}


def test_eval_with_vectors_on_s3_scores_as_in_process_and_never_shows_the_keys(
        ray_cluster, s3_server, tiny_model, rerank_file, retrieval_dir, tmp_path):
    data = ["-m", str(tiny_model), "--reranking", str(rerank_file), "--retrieval", str(retrieval_dir), "-q"]
    local = run("eval", *data, "-o", str(tmp_path / "local.json"))
    assert local.returncode == 0, local.stderr
    uri = s3_server.uri("cli/tiny")
    ray = [*data, "--engine", "ray", "--ray-address", ray_cluster.get_runtime_context().gcs_address,
           "--workers", "2", "--vectors", uri, "--format", "json"]
    first = run("eval", *ray, "-o", str(tmp_path / "ray.json"))
    assert first.returncode == 0, first.stderr
    expected, got = outcome(tmp_path / "local.json"), outcome(tmp_path / "ray.json")
    assert got.keys() == expected.keys() and any(k[1] == "per_query" for k in got)
    assert all(np.allclose(got[k], expected[k], atol=1e-6, rtol=0) for k in got)

    again = run("eval", *ray, "-o", str(tmp_path / "again.json"))  # the same prefix: no document encoded
    assert again.returncode == 0, again.stderr
    before = json.loads((tmp_path / "ray.json").read_text())["runs"][0]["embedding"]
    work = json.loads((tmp_path / "again.json").read_text())["runs"][0]["embedding"]
    queries = work["texts_encoded"]  # encoded on the driver, as in process: only queries
    assert before["cache_hits"] == 0 and work["cache_hits"] == before["texts_encoded"] - queries > 0
    assert outcome(tmp_path / "again.json") == got

    with s3_server.filesystem().open_input_stream("embedlab/cli/tiny/manifest.json") as file:
        manifest = file.read().decode()
    shown = [manifest, *(p.read_text() for p in tmp_path.glob("*.json")),
             *(r.stdout + r.stderr for r in (first, again))]
    for text in shown:
        for secret in (s3_server.KEY, s3_server.SECRET, "s3cr3t"):
            assert secret not in text


def test_bad_locations_are_one_line_before_any_model_loads(ray_cluster, s3_server, retrieval_dir, tmp_path):
    address = ray_cluster.get_runtime_context().gcs_address
    missing = s3_server.uri("v", bucket="no-such-bucket")
    for vectors, message in [("ftp://host/v", "unknown scheme 'ftp://'"),
                             (missing, "--vectors s3://no-such-bucket/v?endpoint_override="),
                             (missing, "bucket 'no-such-bucket' does not exist")]:
        result = run("eval", "-m", str(tmp_path / "no-model-here"), "--retrieval", str(retrieval_dir), "--engine",
                     "ray", "--ray-address", address, "--vectors", vectors, "-q", "-o", str(tmp_path / "r.json"))
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert s3_server.SECRET not in result.stderr and s3_server.KEY not in result.stderr


def test_a_vector_directory_of_another_model_is_refused_on_s3(s3_server):
    engine = EngineOptions(workers=1, vectors=s3_server.uri("other-model"))
    ShardedStore(RayFake(), engine, progress=False)
    with pytest.raises(VectorDirError, match=r"--vectors s3://embedlab/other-model\?.* holds vectors of other settings "
                                        r"\(model: 'fake-bigram' there, 'other' now\)") as error:
        ShardedStore(RayFake(name="other"), engine, progress=False)
    assert s3_server.SECRET not in str(error.value) and s3_server.KEY not in str(error.value)
