from __future__ import annotations

import numpy as np
import pytest

from embedlab.embedding.store import EmbeddingStore
from embedlab.errors import ModelError


def test_each_text_is_encoded_once_per_kind_longest_first(fake_encoder):
    store = EmbeddingStore(fake_encoder, batch_size=2, progress=False)
    first = store.embed(["bb", "a", "bb", "cccc"], "document")
    again = store.embed(["cccc", "a"], "document")
    store.embed(["a"], "query")
    assert fake_encoder.calls[0] == ("document", ["cccc", "bb"]) and fake_encoder.calls[1] == ("document", ["a"])
    assert fake_encoder.texts_encoded == ["cccc", "bb", "a", "a"]  # 'a' again only as a query
    np.testing.assert_array_equal(first[3], again[0])
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-6)
    assert store.stats.as_dict() == {"texts_requested": 7, "unique_texts": 4, "texts_encoded": 4,
                                     "cache_hits": 0, "encode_seconds": pytest.approx(store.stats.seconds, abs=1e-4)}


class BrokenEncoder:
    name = "broken"

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def encode(self, texts, kind="document"):
        out = np.ones((len(texts), 4), dtype=np.float32)
        if self.mode == "nan":
            out[-1, 0] = np.nan
        elif self.mode == "zero":
            out[0] = 0
        elif self.mode == "count":
            out = out[:-1]
        elif self.mode == "dim" and len(texts) == 1:
            out = np.ones((1, 5), dtype=np.float32)
        return out


@pytest.mark.parametrize("mode,match", [("nan", "NaN/inf for 1 text"), ("zero", "zero vector"),
                                        ("count", r"shape \(1, 4\) for 2 texts"), ("dim", "5-d vectors, expected 4-d")])
def test_unusable_vectors_raise_clear_errors(mode, match):
    store = EmbeddingStore(BrokenEncoder(mode), batch_size=2, progress=False)
    with pytest.raises(ModelError, match=match):
        store.embed(["one text", "two", "three"], "document")


def test_cache_serves_a_second_run_and_keeps_what_a_crashed_run_paid_for(tmp_path):
    from embedlab.embedding.cache import EmbeddingCache
    from tests.conftest import FakeEncoder

    texts = [f"text number {i}" for i in range(10)]
    first = EmbeddingStore(FakeEncoder(), batch_size=4, progress=False, cache=EmbeddingCache(tmp_path / "c.db"))
    vectors = first.embed(texts, "document")
    again_encoder = FakeEncoder()
    again = EmbeddingStore(again_encoder, batch_size=4, progress=False, cache=EmbeddingCache(tmp_path / "c.db"))
    np.testing.assert_array_equal(again.embed(texts, "document"), vectors)
    assert again_encoder.calls == [] and again.stats.cache_hits == 10 and again.stats.encoded == 0
    again.embed(texts[:2], "query")  # another kind is another key
    assert len(again_encoder.texts_encoded) == 2

    class Crashing(FakeEncoder):
        def encode(self, texts, kind="document"):
            if len(self.calls) == 2:
                raise ConnectionError("killed mid-run")
            return super().encode(texts, kind)

    fresh = [f"other text {i}" for i in range(10)]
    with pytest.raises(ConnectionError):
        EmbeddingStore(Crashing(), batch_size=4, progress=False,
                       cache=EmbeddingCache(tmp_path / "c.db")).embed(fresh, "document")
    resumed = FakeEncoder()
    EmbeddingStore(resumed, batch_size=4, progress=False, cache=EmbeddingCache(tmp_path / "c.db")).embed(fresh, "document")
    assert len(resumed.texts_encoded) == 2  # the two committed batches (8 texts) were not paid again


def test_progress_on_a_terminal_shows_the_backend_spend(monkeypatch):
    import rich.console

    from tests.conftest import FakeEncoder

    shown = []

    class Spending(FakeEncoder):
        def status(self):
            shown.append(len(self.calls))
            return f"{len(self.calls)} requests"

    monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda self: True))
    store = EmbeddingStore(Spending(), batch_size=2, progress=True)
    store.embed(["a", "b", "c", "d", "e"], "document")
    assert shown == [1, 2, 3]


def test_progress_lines_name_the_model(monkeypatch, capsys):
    """Issue 30 item 4: with several models in a run, a progress line says which one is encoding."""
    from tests.conftest import FakeEncoder

    monkeypatch.setenv("EMBEDLAB_PROGRESS_SECONDS", "0")
    encoder = FakeEncoder()
    encoder.name = "openai:[bold]x:smile:"  # shown as typed: no rich markup, no emoji
    EmbeddingStore(encoder, batch_size=2, progress=True).embed(["a", "b", "c"], "query")
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("embedding queries with openai:[bold]x:smile:: ") for line in lines)
