import pytest

from embedlab.data.mteb_layout import card_configs, hub_configs, is_mteb_layout, load_mteb_layout
from embedlab.data.resolve import resolve
from embedlab.errors import DataError
from tests.tasks.cmteb_snapshots import RERANK_ROWS, write_cmteb, write_mteb

pytest.importorskip("pyarrow")


@pytest.fixture
def copies(tmp_path):
    write_mteb(write_cmteb(tmp_path))
    rerank = next((tmp_path / "datasets--mteb--T2Reranking" / "snapshots").iterdir())
    return rerank, tmp_path / "mteb" / "T2Retrieval", tmp_path


def test_the_dataset_card_says_where_each_config_is(copies):
    rerank, retrieval, _ = copies
    declared = card_configs(rerank)
    assert declared == {"corpus": {"dev": ["corpus/dev-*"]}, "default": {"dev": ["data/dev-*"]},
                        "queries": {"dev": ["queries/dev-00000-of-00001.parquet"]},
                        "top_ranked": {"dev": ["top_ranked/dev-*"]}}  # dataset_info's config_name is not a config
    assert [p.name for p in hub_configs(rerank)["top_ranked"]["dev"]] == ["dev-00000-of-00001.parquet"]
    assert card_configs(retrieval) == {}  # no card: push_to_hub's folders
    assert set(hub_configs(retrieval)) == {"corpus", "queries", "default"}


def test_only_mtebs_layout_is_recognised(copies):
    rerank, retrieval, root = copies
    assert is_mteb_layout(rerank) and is_mteb_layout(retrieval)
    assert not is_mteb_layout(root / "T2Reranking") and not is_mteb_layout(root / "nowhere")
    assert not is_mteb_layout(next((root / "datasets--C-MTEB--T2Retrieval" / "snapshots").iterdir()))


def test_reranking_rows_from_top_ranked_and_qrels(copies):
    task = load_mteb_layout(copies[0], split="dev", name="T2Reranking")
    assert task.type == "reranking" and [r.id for r in task.rows] == [f"dev-{i}" for i in range(5)]
    query, positives, negatives = RERANK_ROWS[1]
    assert (task.rows[1].query, list(task.rows[1].positives), list(task.rows[1].negatives)) == \
        (query, positives, negatives)
    assert task.skipped == {"no_positive": 1}


def test_a_folder_in_mtebs_layout_given_as_a_path(copies):
    (task,) = resolve(copies[1])
    assert task.type == "retrieval" and task.name == "T2Retrieval" and len(task.queries) == 5
    with pytest.raises(DataError, match="is reranking data, not retrieval data"):
        resolve(copies[0], expect="retrieval")


def test_splits_as_mteb_picks_them_and_broken_copies_named(copies, tmp_path):
    rerank, retrieval, _ = copies
    assert load_mteb_layout(retrieval, split="test").type == "retrieval"  # the only split of each config
    (retrieval / "queries" / "dev-00000-of-00001.parquet").rename(retrieval / "queries" / "other.parquet")
    (retrieval / "corpus" / "dev-00000-of-00001.parquet").rename(retrieval / "corpus" / "x-00000-of-00001.parquet")
    (retrieval / "corpus" / "y-00000-of-00001.parquet").write_bytes(
        (retrieval / "corpus" / "x-00000-of-00001.parquet").read_bytes())
    with pytest.raises(DataError, match="config 'corpus' has no split 'dev' \\(found: x, y\\)"):
        load_mteb_layout(retrieval, split="dev")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([{"query-id": "dev-0", "corpus-ids": ["doc0", "nope"]}]),
                   rerank / "top_ranked" / "dev-00000-of-00001.parquet")
    with pytest.raises(DataError, match="'nope' is not in the corpus"):
        load_mteb_layout(rerank, split="dev")
