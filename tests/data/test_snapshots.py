import pytest

from embedlab.data.snapshots import copies, locate, revision_of, roots
from embedlab.errors import DataError

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_copies_in_every_layout_a_download_leaves(tmp_path):
    for folder in (tmp_path / "Name", tmp_path / "owner" / "Name",
                   tmp_path / "datasets--owner--Name" / "snapshots" / COMMIT):
        folder.mkdir(parents=True)
    assert copies("owner/Name", tmp_path) == [tmp_path / "Name", tmp_path / "owner" / "Name",
                                              tmp_path / "datasets--owner--Name" / "snapshots" / COMMIT]
    assert copies("owner/Other", tmp_path) == []


def test_the_revision_a_copy_records(tmp_path):
    snapshot = tmp_path / "datasets--o--n" / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    assert revision_of(snapshot) == COMMIT
    assert revision_of(tmp_path / "datasets--o--n" / "snapshots") is None
    local = tmp_path / "local"
    record = local / ".cache" / "huggingface" / "download" / "data" / "dev.parquet.metadata"
    record.parent.mkdir(parents=True)
    record.write_text(f"{COMMIT}\n\"etag\"\n1.0\n")
    assert revision_of(local) == COMMIT
    record.write_text("not a commit\n")
    assert revision_of(local) is None and revision_of(tmp_path) is None


def test_roots_and_an_offline_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_DATA_DIR", str(tmp_path / "env"))
    assert roots(tmp_path)[:2] == [tmp_path, tmp_path / "env"]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match="no local copy of owner/absent .*hf download owner/absent"):
        locate("owner/absent", tmp_path)
