"""The miner: rank range, sampling, chunks and memory map, search backends, cache, and the oracle
(sentence-transformers' `mine_hard_negatives`)."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.embedding.cache import EmbeddingCache
from embedlab.embedding.store import EmbeddingStore
from embedlab.mining.config import MiningConfig
from embedlab.mining.inputs import MiningRow, read_rows
from embedlab.mining.miner import embed_corpus, mine_rows, output_record
from tests.conftest import FakeEncoder, write_jsonl
from tests.mining.conftest import ANGLES, ROW, TableEncoder, rows_of, store_of


def test_hand_example_margins_and_rank_range(tmp_path, table_rows):
    corpus = ["pos", "near", "a", "b", "c", "d", "e"]
    store = store_of(TableEncoder(ANGLES))
    pos = np.cos(0.5)
    # relative margin 0.05: drop scores above 0.95 * cos(0.5) = 0.8337 -> "near" (0.887) only; cos(0.7)=0.765
    report = mine_rows(table_rows, corpus, store, tmp_path / "out.jsonl", output_format="reranking",
                  config=MiningConfig(num_negatives=3, relative_margin=0.05))
    out = rows_of(tmp_path / "out.jsonl")[0]
    assert out["negative"] == ["a", "b", "c"]
    assert report.dropped["relative_margin"] == 1 and report.excluded_same_text == 1
    assert report.examples[0]["candidate"] == "near" and report.examples[0]["rank"] == 1
    assert report.examples[0]["positive_score"] == round(pos, 4)
    # absolute margin 0.2: drop above cos(0.5) - 0.2 = 0.6776 -> near, a (0.765); b = cos(0.9) = 0.6216 stays
    mine_rows(table_rows, corpus, store, tmp_path / "abs.jsonl", output_format="reranking",
         config=MiningConfig(num_negatives=2, relative_margin=None, absolute_margin=0.2))
    assert rows_of(tmp_path / "abs.jsonl")[0]["negative"] == ["b", "c"]
    # no filter, skip the first 3 raw ranks (pos, near, a): b, c, d
    mine_rows(table_rows, corpus, store, tmp_path / "skip.jsonl", output_format="reranking",
         config=MiningConfig(num_negatives=3, relative_margin=None, range_min=3))
    assert rows_of(tmp_path / "skip.jsonl")[0]["negative"] == ["b", "c", "d"]
    # max / min score: keep 0.3 <= score <= 0.7 -> b (0.62), c (0.45); d = cos(1.3) = 0.267 is too easy
    report = mine_rows(table_rows, corpus, store, tmp_path / "minmax.jsonl", output_format="reranking",
                  config=MiningConfig(num_negatives=5, relative_margin=None, max_score=0.7, min_score=0.3))
    assert rows_of(tmp_path / "minmax.jsonl")[0]["negative"] == ["b", "c"]
    assert report.dropped["max_score"] == 2 and report.dropped["min_score"] == 2  # near, a / d, e
    assert report.rows_short == 1


def test_output_keeps_fields_and_given_negatives(tmp_path, table_rows):
    corpus = ["pos", "a", "b", "c", "e"]
    mine_rows(table_rows, corpus, store_of(TableEncoder(ANGLES)), tmp_path / "flag.jsonl",
         config=MiningConfig(num_negatives=3, relative_margin=None, keep_given=True), with_scores=True)
    out = rows_of(tmp_path / "flag.jsonl")[0]
    assert out["query"] == "q" and out["pos"] == ["pos"] and out["neg"] == ["e", "a", "b"]
    assert out["_id"] == "r1" and out["note"] == "kept as is" and "positive" not in out
    assert out["neg_scores"] == pytest.approx([np.cos(1.5), np.cos(0.7), np.cos(0.9)], abs=1e-6)


def test_random_sampling_is_seeded_and_drawn_from_the_survivors(tmp_path):
    corpus = [f"p{i}" for i in range(40)]
    rows = [{"query": "q", "positive": ["p0"], "negative": []}]
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    runs = []
    for seed in (1, 1, 2):
        mine_rows(read_rows(path).rows, corpus, store_of(FakeEncoder()), tmp_path / "out.jsonl",
             config=MiningConfig(num_negatives=5, range_min=3, range_max=30, relative_margin=None,
                                 sampling="random", seed=seed), with_scores=True)
        runs.append(rows_of(tmp_path / "out.jsonl")[0])
    assert runs[0]["neg"] == runs[1]["neg"] and runs[0]["neg"] != runs[2]["neg"]
    store = store_of(FakeEncoder())
    scores = store.embed(corpus, "document") @ store.embed(["q"], "query")[0]
    allowed = {corpus[i] for i in np.argsort(-scores, kind="stable")[3:30]} - {"p0"}
    assert set(runs[0]["neg"]) <= allowed and len(runs[0]["neg"]) == 5
    assert runs[0]["neg_scores"] == sorted(runs[0]["neg_scores"], reverse=True)


def test_chunked_memory_map_gives_the_same_output(tmp_path, rerank_file):
    source = read_rows(rerank_file)
    corpus = source.candidates()
    config = MiningConfig(num_negatives=3, relative_margin=None)
    mine_rows(source.rows, corpus, store_of(FakeEncoder()), tmp_path / "one.jsonl", config=config)
    small = MiningConfig(num_negatives=3, relative_margin=None, corpus_chunk=3, row_chunk=2)
    mine_rows(source.rows, corpus, store_of(FakeEncoder()), tmp_path / "chunked.jsonl", config=small)
    assert (tmp_path / "one.jsonl").read_text() == (tmp_path / "chunked.jsonl").read_text()
    vectors = embed_corpus(store_of(FakeEncoder()), corpus, tmp_path / "v.f32", chunk=4)
    assert isinstance(vectors, np.memmap) and vectors.shape == (len(corpus), 64)
    np.testing.assert_allclose(vectors, store_of(FakeEncoder()).embed(corpus, "document"))


def test_chunks_embed_each_text_once_and_keep_no_vectors(tmp_path, rerank_file):
    """Corpus and rows in many chunks: a positive that is a candidate is read from the corpus vectors,
    not embedded again, and the store holds no vector afterwards (memory does not grow with the rows)."""
    source = read_rows(rerank_file)
    corpus = source.candidates()
    encoder = FakeEncoder()
    store = store_of(encoder)
    mine_rows(source.rows, corpus, store, tmp_path / "out.jsonl",
         config=MiningConfig(num_negatives=3, corpus_chunk=3, row_chunk=2))
    documents = [t for kind, batch in encoder.calls if kind == "document" for t in batch]
    queries = [t for kind, batch in encoder.calls if kind == "query" for t in batch]
    assert sorted(documents) == sorted(corpus)  # the positives are all in the corpus: none embedded twice
    assert sorted(queries) == sorted(r.query for r in source.rows)
    assert store.stats.encoded == len(corpus) + len(source.rows) and not store._index
    # positives outside the corpus are embedded, per chunk
    encoder = FakeEncoder()
    report = mine_rows(source.rows, corpus[:2], store_of(encoder), tmp_path / "small.jsonl",
                  config=MiningConfig(num_negatives=1, row_chunk=2))
    outside = {p for r in source.rows for p in r.positives} - set(corpus[:2])
    assert outside <= set(encoder.texts_encoded)
    assert report.positive_rank["not_in_corpus"] == sum(not set(r.positives) & set(corpus[:2])
                                                        for r in source.rows)


@pytest.mark.slow  # runs where the bench extra (faiss) is installed, as in CI's slow pass
def test_faiss_search_gives_the_same_output(tmp_path, rerank_file):
    pytest.importorskip("faiss")
    source = read_rows(rerank_file)
    corpus = source.candidates()
    for search in ("exact", "flat"):
        mine_rows(source.rows, corpus, store_of(FakeEncoder()), tmp_path / f"{search}.jsonl",
             config=MiningConfig(num_negatives=3, index=search))
    assert rows_of(tmp_path / "exact.jsonl") == rows_of(tmp_path / "flat.jsonl")


@pytest.mark.parametrize("search", ["ivf", "hnsw"])
def test_an_approximate_search_records_its_recall_on_a_seeded_sample(tmp_path, rerank_file, search):
    pytest.importorskip("faiss")
    source = read_rows(rerank_file)
    corpus = source.candidates()
    reports = {}
    for method in ("exact", search):
        reports[method] = mine_rows(source.rows, corpus, store_of(FakeEncoder()), tmp_path / f"{method}.jsonl",
                                    config=MiningConfig(num_negatives=3, index=method, row_chunk=2))
    cost = reports[search].approximate_search
    depth = min(100, len(corpus))
    assert cost["method"] == search and cost["queries_sampled"] == len(source.rows)  # fewer rows than the sample
    assert cost[f"recall@{depth}_vs_exact"] == 1.0  # a small corpus: IVF has one list, HNSW visits everything
    assert rows_of(tmp_path / "exact.jsonl") == rows_of(tmp_path / f"{search}.jsonl")
    assert reports["exact"].approximate_search == {} and "build_index" in reports[search].seconds


def test_the_recall_of_an_approximate_search_is_measured_on_the_sampled_rows(tmp_path):
    pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(400)]
    corpus = [" ".join(rng.choice(words, 6)) for _ in range(3000)]
    rows = [MiningRow(f"r{i}", " ".join(rng.choice(words, 4)), [corpus[i]], [], {}) for i in range(300)]
    report = mine_rows(rows, corpus, store_of(FakeEncoder()), tmp_path / "ivf.jsonl",
                       config=MiningConfig(num_negatives=3, index="ivf", range_max=50, row_chunk=64))
    cost = report.approximate_search
    assert cost["queries_sampled"] == 200 and cost["nlist"] == 76 and cost["nprobe"] == 9
    assert 0 < cost["recall@50_vs_exact"] < 1  # nprobe 9 of 76 lists misses some


def test_a_rerun_through_the_cache_embeds_nothing(tmp_path, rerank_file):
    source = read_rows(rerank_file)
    corpus = source.candidates()
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first, second = FakeEncoder(), FakeEncoder()
    mine_rows(source.rows, corpus, EmbeddingStore(first, progress=False, cache=cache), tmp_path / "a.jsonl")
    mine_rows(source.rows, corpus, EmbeddingStore(second, progress=False, cache=cache), tmp_path / "b.jsonl")
    assert first.texts_encoded and second.texts_encoded == []
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


def test_same_negatives_as_sentence_transformers_mine_hard_negatives(tmp_path):
    """The oracle: sentence-transformers' own miner, same model, corpus and filters (range_min 0, top)."""
    datasets = pytest.importorskip("datasets")
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.util import mine_hard_negatives

    from embedlab import demo
    from embedlab.models.sentence_transformers import SentenceTransformerEncoder

    model = SentenceTransformer(demo.default_model(), device="cpu")
    source = read_rows(demo.RERANKING)
    rows = source.rows
    for r in rows:
        r.positives = r.positives[:1]  # sentence-transformers mines per (anchor, positive) pair
    corpus = list(dict.fromkeys(t for r in rows for t in r.positives + r.negatives))
    filters = {"relative_margin": 0.05, "absolute_margin": 0.01, "max_score": 0.6}
    theirs = mine_hard_negatives(
        datasets.Dataset.from_dict({"anchor": [r.query for r in rows], "positive": [r.positives[0] for r in rows]}),
        model, corpus=corpus, range_max=len(corpus), num_negatives=3, sampling_strategy="top",
        output_format="n-tuple", use_faiss=False, verbose=False, **filters)
    expected = {r["anchor"]: [r[f"negative_{i}"] for i in (1, 2, 3)] for r in theirs}
    store = EmbeddingStore(SentenceTransformerEncoder.from_model(model), progress=False)
    mine_rows(rows, corpus, store, tmp_path / "ours.jsonl",
         config=MiningConfig(num_negatives=3, range_max=len(corpus), **filters))
    ours = {r["query"]: r["neg"] for r in rows_of(tmp_path / "ours.jsonl")}
    assert len(expected) >= 30  # rows with 3 surviving negatives (sentence-transformers drops the others)
    assert {q: ours[q] for q in expected} == expected



def test_output_record_in_each_layout():
    row = MiningRow("rows.jsonl:1", "q", ["pos"], ["e"], dict(ROW))
    mined = {"negatives": ["a"], "neg_scores": [0.5], "pos_scores": [0.9]}
    assert output_record(row, mined, "flag", False) == {"query": "q", "pos": ["pos"], "neg": ["a"], "_id": "r1",
                                                        "note": "kept as is"}
    out = output_record(row, mined, "reranking", True)
    assert list(out) == ["query", "positive", "negative", "_id", "note", "pos_scores", "neg_scores"]
    assert out["neg_scores"] == [0.5] and out["pos_scores"] == [0.9]


def test_a_failure_leaves_no_output_and_no_partial_file(tmp_path, rerank_file):
    class FailsOnQueries(FakeEncoder):
        def encode(self, texts, kind="document"):
            if kind == "query":
                raise RuntimeError("the model broke")
            return super().encode(texts, kind)

    source = read_rows(rerank_file)
    out = tmp_path / "out" / "mined.jsonl"
    with pytest.raises(RuntimeError, match="the model broke"):
        mine_rows(source.rows, source.candidates(), store_of(FailsOnQueries()), out,
                  config=MiningConfig(corpus_chunk=3))
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_bad_output_format_and_empty_corpus_are_refused(tmp_path, table_rows):
    from embedlab.errors import DataError

    with pytest.raises(ValueError, match="output_format is one of"):
        mine_rows(table_rows, ["pos"], store_of(FakeEncoder()), tmp_path / "o.jsonl", output_format="tsv")
    with pytest.raises(DataError, match="the candidate corpus is empty"):
        mine_rows(table_rows, [], store_of(FakeEncoder()), tmp_path / "o.jsonl")
    assert not (tmp_path / "o.jsonl").exists()

