"""Hard-negative mining: rank range, false-negative exclusions and filters, second model, outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedlab.data.mining import (
    MiningConfig,
    embed_corpus,
    mine,
    read_corpus,
    read_rows,
)
from embedlab.embed import EmbeddingStore
from embedlab.models.cache import EmbeddingCache
from tests.conftest import FakeEncoder, write_beir, write_jsonl


class TableEncoder:
    """Vectors given by hand: each text is a fixed 2-d direction, so every cosine is known."""

    name = "table"

    def __init__(self, angles: dict[str, float]) -> None:
        self.angles = angles

    def encode(self, texts, kind="document"):
        a = np.array([self.angles[t] for t in texts])
        return np.stack([np.cos(a), np.sin(a)], axis=1).astype(np.float32)


def _store(encoder) -> EmbeddingStore:
    return EmbeddingStore(encoder, progress=False)


def _rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# query at angle 0; cosine to a passage at angle t is cos(t)
ANGLES = {"q": 0.0, "pos": 0.50, "near": 0.48, "dup of pos": 0.50, "a": 0.7, "b": 0.9, "c": 1.1,
          "d": 1.3, "e": 1.5}
ROW = {"_id": "r1", "query": "q", "positive": ["pos"], "negative": ["e"], "note": "kept as is"}


@pytest.fixture
def table_rows(tmp_path):
    return read_rows(write_jsonl(tmp_path / "rows.jsonl", [ROW])).rows


def test_hand_example_margins_and_rank_range(tmp_path, table_rows):
    corpus = ["pos", "near", "a", "b", "c", "d", "e"]
    store = _store(TableEncoder(ANGLES))
    pos = np.cos(0.5)
    # relative margin 0.05: drop scores above 0.95 * cos(0.5) = 0.8337 -> "near" (0.887) only; cos(0.7)=0.765
    report = mine(table_rows, corpus, store, tmp_path / "out.jsonl", output_format="reranking",
                  config=MiningConfig(num_negatives=3, relative_margin=0.05))
    out = _rows(tmp_path / "out.jsonl")[0]
    assert out["negative"] == ["a", "b", "c"]
    assert report.dropped["relative_margin"] == 1 and report.excluded_same_text == 1
    assert report.examples[0]["candidate"] == "near" and report.examples[0]["rank"] == 1
    assert report.examples[0]["positive_score"] == round(pos, 4)
    # absolute margin 0.2: drop above cos(0.5) - 0.2 = 0.6776 -> near, a (0.765); b = cos(0.9) = 0.6216 stays
    mine(table_rows, corpus, store, tmp_path / "abs.jsonl", output_format="reranking",
         config=MiningConfig(num_negatives=2, relative_margin=None, absolute_margin=0.2))
    assert _rows(tmp_path / "abs.jsonl")[0]["negative"] == ["b", "c"]
    # no filter, skip the first 3 raw ranks (pos, near, a): b, c, d
    mine(table_rows, corpus, store, tmp_path / "skip.jsonl", output_format="reranking",
         config=MiningConfig(num_negatives=3, relative_margin=None, range_min=3))
    assert _rows(tmp_path / "skip.jsonl")[0]["negative"] == ["b", "c", "d"]
    # max / min score: keep 0.3 <= score <= 0.7 -> b (0.62), c (0.45); d = cos(1.3) = 0.267 is too easy
    report = mine(table_rows, corpus, store, tmp_path / "minmax.jsonl", output_format="reranking",
                  config=MiningConfig(num_negatives=5, relative_margin=None, max_score=0.7, min_score=0.3))
    assert _rows(tmp_path / "minmax.jsonl")[0]["negative"] == ["b", "c"]
    assert report.dropped["max_score"] == 2 and report.dropped["min_score"] == 2  # near, a / d, e
    assert report.rows_short == 1


def test_margins_match_sentence_transformers_definitions(tmp_path):
    """Every written negative satisfies sentence-transformers' inequalities; every dropped one violates one."""
    rng = np.random.default_rng(0)
    corpus = [f"passage {i}" for i in range(60)]
    angles = {t: float(a) for t, a in zip(corpus, rng.uniform(0.2, 1.6, len(corpus)))}
    rows = [{"query": f"query {i}", "positive": [corpus[i]], "negative": []} for i in range(10)]
    angles.update({f"query {i}": 0.0 for i in range(10)})
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    config = MiningConfig(num_negatives=50, range_max=60, absolute_margin=0.02, relative_margin=0.1,
                          max_score=0.9)
    report = mine(read_rows(path).rows, corpus, _store(TableEncoder(angles)), tmp_path / "out.jsonl",
                  config=config, with_scores=True)
    written = 0
    for row, source in zip(_rows(tmp_path / "out.jsonl"), rows):
        positive = np.cos(angles[source["positive"][0]])
        assert row["pos_scores"] == [pytest.approx(positive, abs=1e-6)]
        expected = sorted((t for t in corpus if t != source["positive"][0]
                           if np.cos(angles[t]) + 0.02 <= positive
                           and np.cos(angles[t]) <= positive - abs(positive) * 0.1
                           and np.cos(angles[t]) <= 0.9), key=lambda t: -np.cos(angles[t]))
        assert row["neg"] == expected
        assert row["neg_scores"] == pytest.approx([np.cos(angles[t]) for t in expected], abs=1e-6)
        written += len(expected)
    assert report.negatives_written == written
    assert report.candidates == 10 * 60 and report.excluded_same_text == 10
    assert report.kept_candidates + report.likely_false_negatives + report.excluded_same_text == 600


def test_same_text_and_known_positives_are_never_negatives(tmp_path):
    rows = [{"query": "How to brew tea?", "positive": ["Brew tea at 80 degrees."], "negative": []},
            {"query": "how to  brew tea", "positive": ["Use fresh water for tea."], "negative": []},
            {"query": "coffee", "positive": ["Grind the beans."], "negative": ["tea is grown on hills"]}]
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    corpus = ["brew tea at 80  degrees.", "Use fresh water for tea.", "Grind the beans.",
              "tea is grown on hills", "How to brew tea?"]
    report = mine(read_rows(path).rows, corpus, _store(FakeEncoder()), tmp_path / "out.jsonl",
                  config=MiningConfig(num_negatives=5, relative_margin=None))
    first = _rows(tmp_path / "out.jsonl")[0]
    # not: its positive (other case and spacing), the query's own text, the positive of row 2 (same
    # normalised query)
    assert sorted(first["neg"]) == ["Grind the beans.", "tea is grown on hills"]
    assert report.excluded_known_positive == 2  # row 1 <-> row 2, each way
    # rows 1 and 2: positive and query ("how to  brew tea" is "How to brew tea?" up to case, spaces and
    # punctuation, as data.text defines the same text everywhere); row 3: positive
    assert report.excluded_same_text == 2 + 2 + 1


def test_second_model_must_agree(tmp_path, table_rows):
    corpus = ["pos", "a", "b", "c"]
    second = dict(ANGLES, b=0.3)  # the second model finds "b" closer to the query than the positive
    report = mine(table_rows, corpus, _store(TableEncoder(ANGLES)), tmp_path / "out.jsonl",
                  config=MiningConfig(num_negatives=3, relative_margin=None),
                  checker=_store(TableEncoder(second)), output_format="reranking")
    assert _rows(tmp_path / "out.jsonl")[0]["negative"] == ["a", "c"]
    assert report.dropped["second_model"] == 1
    assert report.examples[0]["candidate"] == "b" and report.examples[0]["reason"] == "second_model"


def test_output_keeps_fields_and_given_negatives(tmp_path, table_rows):
    corpus = ["pos", "a", "b", "c", "e"]
    mine(table_rows, corpus, _store(TableEncoder(ANGLES)), tmp_path / "flag.jsonl",
         config=MiningConfig(num_negatives=3, relative_margin=None, keep_given=True), with_scores=True)
    out = _rows(tmp_path / "flag.jsonl")[0]
    assert out["query"] == "q" and out["pos"] == ["pos"] and out["neg"] == ["e", "a", "b"]
    assert out["_id"] == "r1" and out["note"] == "kept as is" and "positive" not in out
    assert out["neg_scores"] == pytest.approx([np.cos(1.5), np.cos(0.7), np.cos(0.9)], abs=1e-6)


def test_random_sampling_is_seeded_and_drawn_from_the_survivors(tmp_path):
    corpus = [f"p{i}" for i in range(40)]
    rows = [{"query": "q", "positive": ["p0"], "negative": []}]
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    runs = []
    for seed in (1, 1, 2):
        mine(read_rows(path).rows, corpus, _store(FakeEncoder()), tmp_path / "out.jsonl",
             config=MiningConfig(num_negatives=5, range_min=3, range_max=30, relative_margin=None,
                                 sampling="random", seed=seed), with_scores=True)
        runs.append(_rows(tmp_path / "out.jsonl")[0])
    assert runs[0]["neg"] == runs[1]["neg"] and runs[0]["neg"] != runs[2]["neg"]
    store = _store(FakeEncoder())
    scores = store.embed(corpus, "document") @ store.embed(["q"], "query")[0]
    allowed = {corpus[i] for i in np.argsort(-scores, kind="stable")[3:30]} - {"p0"}
    assert set(runs[0]["neg"]) <= allowed and len(runs[0]["neg"]) == 5
    assert runs[0]["neg_scores"] == sorted(runs[0]["neg_scores"], reverse=True)


def test_chunked_memory_map_gives_the_same_output(tmp_path, rerank_file):
    source = read_rows(rerank_file)
    corpus = source.candidates()
    config = MiningConfig(num_negatives=3, relative_margin=None)
    mine(source.rows, corpus, _store(FakeEncoder()), tmp_path / "one.jsonl", config=config)
    small = MiningConfig(num_negatives=3, relative_margin=None, corpus_chunk=3, row_chunk=2)
    mine(source.rows, corpus, _store(FakeEncoder()), tmp_path / "chunked.jsonl", config=small)
    assert (tmp_path / "one.jsonl").read_text() == (tmp_path / "chunked.jsonl").read_text()
    vectors = embed_corpus(_store(FakeEncoder()), corpus, tmp_path / "v.f32", chunk=4)
    assert isinstance(vectors, np.memmap) and vectors.shape == (len(corpus), 64)
    np.testing.assert_allclose(vectors, _store(FakeEncoder()).embed(corpus, "document"))


def test_chunks_embed_each_text_once_and_keep_no_vectors(tmp_path, rerank_file):
    """Corpus and rows in many chunks: a positive that is a candidate is read from the corpus vectors,
    not embedded again, and the store holds no vector afterwards (memory does not grow with the rows)."""
    source = read_rows(rerank_file)
    corpus = source.candidates()
    encoder = FakeEncoder()
    store = _store(encoder)
    mine(source.rows, corpus, store, tmp_path / "out.jsonl",
         config=MiningConfig(num_negatives=3, corpus_chunk=3, row_chunk=2))
    documents = [t for kind, batch in encoder.calls if kind == "document" for t in batch]
    queries = [t for kind, batch in encoder.calls if kind == "query" for t in batch]
    assert sorted(documents) == sorted(corpus)  # the positives are all in the corpus: none embedded twice
    assert sorted(queries) == sorted(r.query for r in source.rows)
    assert store.stats.encoded == len(corpus) + len(source.rows) and not store._index
    # positives outside the corpus are embedded, per chunk
    encoder = FakeEncoder()
    report = mine(source.rows, corpus[:2], _store(encoder), tmp_path / "small.jsonl",
                  config=MiningConfig(num_negatives=1, row_chunk=2))
    outside = {p for r in source.rows for p in r.positives} - set(corpus[:2])
    assert outside <= set(encoder.texts_encoded)
    assert report.positive_rank["not_in_corpus"] == sum(not set(r.positives) & set(corpus[:2])
                                                        for r in source.rows)


def test_positive_ranks_and_advice(tmp_path):
    """Where each row's own positive ranks is counted; a model that misses the positives gets a note."""
    corpus = ["pos", "near", "a", "b", "c", "d", "e"]
    rows = [{"query": "q", "positive": ["pos"], "negative": []},    # pos at 0.50: rank 2 after "near"
            {"query": "q2", "positive": ["near"], "negative": []},  # q2 = q's angle: "near" ranks first
            {"query": "q3", "positive": ["e"], "negative": []}]     # e = 1.5: last of 7, below range_max 5
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    angles = dict(ANGLES, q2=0.0, q3=0.0)
    report = mine(read_rows(path).rows, corpus, _store(TableEncoder(angles)), tmp_path / "out.jsonl",
                  config=MiningConfig(num_negatives=1, range_max=5, relative_margin=None))
    assert report.positive_rank == {"1": 1, "2-10": 1, "11+": 0, "below_range": 1, "not_in_corpus": 0}
    assert any("first in only 33% of the 3 rows" in note for note in report.notes)
    good = mine(read_rows(path).rows[1:2], corpus, _store(TableEncoder(angles)), tmp_path / "good.jsonl",
                config=MiningConfig(num_negatives=1, relative_margin=None))
    assert good.positive_rank["1"] == 1 and good.notes == []
    # every candidate dropped: the rows end without negatives, and the note says so
    strict = mine(read_rows(path).rows[1:2], corpus, _store(TableEncoder(angles)), tmp_path / "strict.jsonl",
                  config=MiningConfig(num_negatives=1, absolute_margin=2.0))
    assert strict.rows_without_negative == 1 and any("got no mined negative" in n for n in strict.notes)


def test_examples_come_from_different_rows(tmp_path):
    corpus = [f"passage {i}" for i in range(30)]
    rows = [{"query": f"query {i}", "positive": [corpus[i]], "negative": []} for i in range(8)]
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    report = mine(read_rows(path).rows, corpus, _store(FakeEncoder()), tmp_path / "out.jsonl",
                  config=MiningConfig(num_negatives=2, relative_margin=None, absolute_margin=1.0))
    assert report.dropped["absolute_margin"] > 8  # many drops per row...
    where = [e["row"] for e in report.examples]
    assert len(where) == 5 and len(set(where)) == 5  # ...but one example per row, five rows


@pytest.mark.slow  # runs where the bench extra (faiss) is installed, as in CI's slow pass
def test_faiss_search_gives_the_same_output(tmp_path, rerank_file):
    pytest.importorskip("faiss")
    source = read_rows(rerank_file)
    corpus = source.candidates()
    for search in ("exact", "faiss"):
        mine(source.rows, corpus, _store(FakeEncoder()), tmp_path / f"{search}.jsonl",
             config=MiningConfig(num_negatives=3, search=search))
    assert _rows(tmp_path / "exact.jsonl") == _rows(tmp_path / "faiss.jsonl")


def test_a_rerun_through_the_cache_embeds_nothing(tmp_path, rerank_file):
    source = read_rows(rerank_file)
    corpus = source.candidates()
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first, second = FakeEncoder(), FakeEncoder()
    mine(source.rows, corpus, EmbeddingStore(first, progress=False, cache=cache), tmp_path / "a.jsonl")
    mine(source.rows, corpus, EmbeddingStore(second, progress=False, cache=cache), tmp_path / "b.jsonl")
    assert first.texts_encoded and second.texts_encoded == []
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


def test_rows_without_positive_are_skipped_and_counted(rerank_file, tmp_path):
    rows = [{"query": "x", "positive": [], "negative": ["y"]}, {"query": "q", "pos": ["p"], "neg": []}]
    source = read_rows(write_jsonl(tmp_path / "rows.jsonl", rows))
    assert [r.query for r in source.rows] == ["q"] and source.skipped == {"no_positive": 1}


def test_retrieval_folder_rows_and_corpus(tmp_path, retrieval_dir):
    source = read_rows(retrieval_dir)
    by_id = {r.record["_id"]: r for r in source.rows}
    assert by_id["q1"].positives == ["green tea is brewed at 80 degrees", "black tea needs boiling water"]
    assert by_id["q2"].negatives == ["oil the bicycle chain monthly"]  # judged 0
    assert source.skipped == {"no_judgments": 1}
    assert set(read_corpus(retrieval_dir)) == set(source.corpus.values())
    assert source.candidates() == list(dict.fromkeys(source.corpus.values()))
    rows = read_rows(write_jsonl(tmp_path / "rows.jsonl", [ROW, {**ROW, "negative": ["a", "pos"]}]))
    assert rows.candidates() == ["pos", "e", "a"]  # every passage of the rows, once, first-seen order
    corpus_file = write_jsonl(tmp_path / "corpus.jsonl", [{"_id": "1", "title": "T", "text": "body"},
                                                          {"_id": "2", "text": "other"}])
    assert read_corpus(corpus_file) == ["T body", "other"]


def test_bad_rows_name_file_and_line(tmp_path):
    from embedlab.errors import DataError

    path = write_jsonl(tmp_path / "rows.jsonl", [{"query": "q", "positive": ["p", " "], "negative": []}])
    with pytest.raises(DataError, match=r"rows.jsonl:1: field 'positive': empty passage"):
        read_rows(path)


def test_write_beir_helper_layout_is_read(tmp_path):
    folder = write_beir(tmp_path / "b", {"d1": "x", "d2": "y"}, {"q": "x?"}, [("q", "d1", 1)])
    source = read_rows(folder)
    assert source.rows[0].positives == ["x"] and source.corpus == {"d1": "x", "d2": "y"}


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
    mine(rows, corpus, store, tmp_path / "ours.jsonl",
         config=MiningConfig(num_negatives=3, range_max=len(corpus), **filters))
    ours = {r["query"]: r["neg"] for r in _rows(tmp_path / "ours.jsonl")}
    assert len(expected) >= 30  # rows with 3 surviving negatives (sentence-transformers drops the others)
    assert {q: ours[q] for q in expected} == expected
