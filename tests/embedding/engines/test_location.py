"""The vector directory's filesystem layer on a local folder and on a real S3 API (moto's server): committed
names, atomic writes, the manifest, remote shards mirrored once, the refusals (unknown scheme, missing or
read-only bucket, no S3 support, full disk), and credentials never shown."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest

from embedlab.embedding.engines import location as location_module
from embedlab.embedding.engines.location import (
    ArrowFolder,
    LocalFolder,
    VectorDirError,
    open_location,
    shown,
    uri_secrets,
)
from embedlab.embedding.engines.vectors import VectorDir, manifest_for, text_ids, write_shard


@pytest.fixture(params=["local", "s3"])
def where(request, tmp_path):
    """A fresh vector directory: a local folder, or a prefix of the session's S3 bucket."""
    if request.param == "local":
        return str(tmp_path / "v")
    return request.getfixturevalue("s3_server").uri(f"{request.node.originalname}/v")


def manifest(**changes):
    info = {"name": "m", "revision": "r1", "query_instruction": "", "document_instruction": "", "max_length": 64,
            "dimension": 4}
    return manifest_for({**info, **changes}, "key|m", "cpu")


def unit(n, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, 4)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_files_are_listed_read_and_written_alike(where, tmp_path):
    place = open_location(where, mirror=tmp_path / "mirror")
    place.create()
    assert place.names(".ids.npy") == [] and not place.exists("manifest.json")
    place.write("manifest.json", b'{"a": 1}')
    place.write_npy("p1.f32.npy", unit(3))
    place.write_npy("p1.ids.npy", np.arange(3))
    assert json.loads(place.read_text("manifest.json")) == {"a": 1} and place.exists("manifest.json")
    assert place.names(".ids.npy") == ["p1"] and place.names(".npy") == ["p1.f32", "p1.ids"]
    np.testing.assert_array_equal(np.load(place.local_path("p1.ids.npy")), np.arange(3))
    np.testing.assert_array_equal(np.load(place.local_path("p1.f32.npy"), mmap_mode="r"), unit(3))
    assert place.bytes_on_disk() == npy_size(unit(3)) + npy_size(np.arange(3))
    with pytest.raises(FileNotFoundError):
        place.read_text("none.json")


def npy_size(array):
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return len(buffer.getvalue())


def test_a_remote_shard_is_mirrored_once_and_memory_mapped(s3_server, tmp_path):
    place = open_location(s3_server.uri("mirror-once"), mirror=tmp_path / "m")
    assert isinstance(place, ArrowFolder)
    place.write_npy("s.f32.npy", unit(50))
    first = place.local_path("s.f32.npy")
    assert first.parent == tmp_path / "m" and place.mirrored == first.stat().st_size == 50 * 16 + 128
    assert place.local_path("s.f32.npy") == first and place.mirrored == 50 * 16 + 128  # copied once
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["s.f32.npy"]


def test_a_vector_directory_on_s3_joins_by_id_and_refuses_other_settings(s3_server, tmp_path):
    uri = s3_server.uri("vector-dir")
    texts = [f"text {i}" for i in range(10)]
    store = VectorDir(uri, manifest(), scratch=tmp_path)
    store.write_shard(text_ids(texts[6:]), unit(10)[6:])
    write_shard(open_location(uri), text_ids(texts[:6]), unit(10)[:6])  # as a worker writes: reopened from the URI
    store.refresh()
    assert len(store) == 10 and len(store.shards) == 2 and store.bytes_on_disk() > 10 * 16
    order = [3, 9, 0, 7, 7]
    np.testing.assert_array_equal(store.read(text_ids([texts[i] for i in order])), unit(10)[order])
    assert store.location.mirrored == sum(p.stat().st_size for p in (tmp_path / "mirror").iterdir())
    VectorDir(uri, manifest())  # the same settings: reused
    with pytest.raises(VectorDirError, match=r"^--vectors s3://embedlab/vector-dir\?.* holds vectors of other "
                                             r"settings \(max_length: 64 there, 128 now\)"):
        VectorDir(uri, manifest(max_length=128))


def test_credentials_in_the_uri_are_never_shown(s3_server):
    in_userinfo = s3_server.uri("secret", bucket="no-such-bucket")
    in_params = (s3_server.uri("secret", credentials=False, bucket="no-such-bucket") + f"&access_key={s3_server.KEY}"
                 "&secret_key=abc-SECRET-xyz&session_token=tok-3x4mple-SESSION")
    options = ArrowFolder(in_params).fs.__reduce__()[1][0]  # given to pyarrow apart from the URI
    assert (options["access_key"], options["session_token"]) == (s3_server.KEY, "tok-3x4mple-SESSION")
    for given in (in_userinfo, in_params):
        with pytest.raises(VectorDirError) as error:
            open_location(given).create()
        message = str(error.value)
        assert "bucket 'no-such-bucket' does not exist" in message and "\n" not in message
        for secret in (s3_server.KEY, s3_server.SECRET, "%2F", "tok-3x4mple", "abc-SECRET"):
            assert secret not in message and secret not in str(open_location(given)), secret
        assert message.startswith(f"--vectors s3://no-such-bucket/secret?endpoint_override={s3_server.endpoint}")


def test_the_aws_environment_names_endpoint_and_keys(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{s3_server.endpoint}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    place = open_location("s3://embedlab/from-env")
    place.create()
    place.write("x.ids.npy", b"1")
    assert open_location(s3_server.uri("from-env")).names(".ids.npy") == ["x"]


def test_unknown_schemes_and_missing_s3_support_are_one_line(monkeypatch):
    with pytest.raises(VectorDirError, match=r"^--vectors ftp://host/v: unknown scheme 'ftp://'; give a local "
                                             r"folder or a URI pyarrow can write: s3://"):
        open_location("ftp://user:pw@host/v")
    import pyarrow.fs
    from pyarrow.lib import ArrowNotImplementedError

    class NoS3:
        @staticmethod
        def from_uri(uri):
            raise ArrowNotImplementedError("Got S3 URI but Arrow compiled without S3 support")

    monkeypatch.setattr(pyarrow.fs, "FileSystem", NoS3)
    with pytest.raises(VectorDirError, match=r"^--vectors s3://b/v: this pyarrow cannot open s3:// \(Got S3 URI but "
                                             r"Arrow compiled without S3 support\); install pyarrow's wheel"):
        open_location("s3://b/v")


class ReadOnly:
    """An S3 filesystem whose writes are denied (a bucket policy moto does not enforce)."""

    def __init__(self, fs):
        self.fs = fs

    def __getattr__(self, name):
        return getattr(self.fs, name)

    def open_output_stream(self, path):
        raise OSError(f"When initiating multiple part upload for key '{path}': AWS Error ACCESS_DENIED during "
                      "CreateMultipartUpload operation: Access Denied")


def test_a_bucket_nobody_may_write_is_refused_before_anything_runs(s3_server):
    place = open_location(s3_server.uri("read-only"))
    place.fs = ReadOnly(place.fs)
    with pytest.raises(VectorDirError, match=r"^--vectors s3://embedlab/read-only\?.*: cannot write there \(When "
                                             r".*ACCESS_DENIED.*\); check the credentials and the bucket's"):
        place.create()


def test_a_failed_write_keeps_the_shards_written_on_both_kinds(where, tmp_path, monkeypatch):
    store = VectorDir(where, manifest(), scratch=tmp_path)
    store.write_shard(text_ids(["a", "b"]), unit(2))
    if isinstance(store.location, LocalFolder):
        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(location_module.np, "save", full)
        expected = "no space left on the device of .* the shards already written are kept"
    else:
        store.location.fs = ReadOnly(store.location.fs)
        expected = r"cannot write a shard in s3://embedlab/.*ACCESS_DENIED"
    with pytest.raises(VectorDirError, match=expected):
        store.write_shard(text_ids(["c"]), unit(1))
    monkeypatch.undo()
    again = VectorDir(where, manifest())
    assert len(again) == 2 and again.location.names(".npy") == [again.shards[0] + ".f32", again.shards[0] + ".ids"]


def test_a_full_disk_while_mirroring_is_one_line(s3_server, tmp_path, monkeypatch):
    place = open_location(s3_server.uri("mirror-full"), mirror=tmp_path / "m")
    place.write_npy("s.f32.npy", unit(5))

    def full(source, target, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(location_module.shutil, "copyfileobj", full)
    with pytest.raises(VectorDirError, match=r"^no space left on the device of .*/m while copying a shard of "
                                             r"s3://embedlab/mirror-full\?.*free space"):
        place.local_path("s.f32.npy")
    assert list((tmp_path / "m").iterdir()) == [] and place.mirrored == 0


def test_a_filesystem_without_atomic_puts_writes_a_temporary_name_then_moves_it(tmp_path):
    place = open_location("mock:///data/v", mirror=tmp_path / "m")  # pyarrow's in-memory filesystem, as HDFS
    place.create()
    place.write_npy("p.f32.npy", unit(2))
    from pyarrow.fs import FileSelector

    assert [i.base_name for i in place.fs.get_file_info(FileSelector("data/v"))] == ["p.f32.npy"]  # none left
    np.testing.assert_array_equal(np.load(place.local_path("p.f32.npy"), mmap_mode="r"), unit(2))


def test_a_uri_is_shown_without_its_credentials():
    uri = "s3://AK:S%2FK@bucket/v/?region=eu&secret_key=SK2&endpoint_override=h:9&session_token=T0KEN"
    assert shown(uri) == "s3://bucket/v?region=eu&endpoint_override=h:9" and shown("/data/v") == "/data/v"
    assert set(uri_secrets(uri)) == {"SK2", "T0KEN", "AK:S%2FK", "AK:S/K", "AK", "S%2FK", "S/K"}


def test_the_engine_options_repr_never_shows_the_vectors_uri():
    from embedlab.embedding.engines import EngineOptions

    assert "SECRET" not in repr(EngineOptions(vectors="s3://KEY:SECRET@bucket/v"))


def test_file_uris_and_plain_paths_are_local_folders(tmp_path):
    assert isinstance(open_location(f"file://{tmp_path}/v"), LocalFolder)
    assert open_location(f"file://{tmp_path}/v").path == open_location(tmp_path / "v").path == tmp_path / "v"
    (tmp_path / "file").write_text("x")
    with pytest.raises(VectorDirError, match="not a directory"):
        open_location(tmp_path / "file").create()
