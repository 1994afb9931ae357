"""Speed measurements of an encoder: warm-up first, length-sorted batches, latency at batch 1, bytes."""

from __future__ import annotations

import pytest

from embedlab.models.throughput import encode_throughput, measure_speed, model_bytes, query_latency
from tests.conftest import FakeEncoder


class Clock:
    """A clock the fake encoder advances: each call costs 1 ms plus 0.1 ms per text (as a real model would)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TimedEncoder(FakeEncoder):
    def __init__(self, clock: Clock, first_call_ms: float = 0.0) -> None:
        super().__init__()
        self.clock, self.first_call_ms = clock, first_call_ms

    def encode(self, texts, kind="document"):
        extra = self.first_call_ms if not self.calls else 0.0
        self.clock.now += (1.0 + 0.1 * len(texts) + extra) / 1000
        return super().encode(texts, kind)

    def info(self):
        return {**super().info(), "model_bytes": 1234}


def test_throughput_counts_after_the_warm_up_in_length_sorted_batches():
    clock = Clock()
    encoder = TimedEncoder(clock, first_call_ms=500.0)  # a slow first call (compilation): left out
    texts = [f"text {'x' * i}" for i in range(100)]
    rate = encode_throughput(encoder, texts, batch_size=10, clock=clock)
    assert rate == pytest.approx(100 / ((10 * 1.0 + 100 * 0.1) / 1000))  # 10 calls of 10 texts: 20 ms
    warm, *timed = encoder.calls
    assert len(timed) == 10 and warm[1] == timed[0][1]  # the warm-up batch: the longest texts
    assert [len(t) for batch in timed for t in batch[1]] == sorted((len(t) for t in texts), reverse=True)
    with pytest.raises(ValueError, match="no texts"):
        encode_throughput(encoder, [])


def test_query_latency_is_per_single_query_after_the_warm_up():
    clock = Clock()
    encoder = TimedEncoder(clock, first_call_ms=500.0)
    median, p90 = query_latency(encoder, [f"q{i}" for i in range(30)], warmup=3, clock=clock)
    assert median == pytest.approx(1.1) and p90 == pytest.approx(1.1)
    assert len(encoder.calls) == 33 and all(kind == "query" and len(batch) == 1 for kind, batch in encoder.calls)
    assert len(query_latency(TimedEncoder(clock), ["a", "b", "c"], warmup=0, limit=2, clock=clock)) == 2


def test_measure_speed_gives_one_row_of_speed_columns_and_bytes_from_provenance():
    speed = measure_speed(TimedEncoder(Clock()), ["doc one", "doc two", "doc three"], ["q"], batch_size=2)
    assert speed.texts == 3 and speed.queries == 1 and speed.batch_size == 2 and speed.model_bytes == 1234
    assert speed.texts_per_second > 0 and speed.query_ms >= 0
    assert model_bytes(FakeEncoder()) is None
    assert set(speed.as_dict()) == {"texts_per_second", "texts", "batch_size", "query_ms", "query_ms_p90",
                                    "queries", "model_bytes"}


def test_on_the_bundled_minilm_a_static_model_is_faster_than_the_transformer(tmp_path):
    """Real clocks, real models: the table lookup beats the transformer by far even on a shared machine."""
    pytest.importorskip("model2vec")
    from embedlab.demo import default_model
    from embedlab.models import load_model
    from tests.models.test_static import tiny_static_model

    texts = [f"sentence {i} about tea and bicycles in the spring rain" for i in range(64)]
    transformer = encode_throughput(load_model(default_model()), texts)
    static = encode_throughput(load_model(f"static:{tiny_static_model(tmp_path)}"), texts)
    assert static > 5 * transformer
