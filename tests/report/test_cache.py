"""report/cache.py: what `embedlab cache stats` prints."""

from pathlib import Path

from embedlab.report.cache import cache_lines


def test_the_file_then_a_line_per_model_key():
    rows = [{"model": "openai|m|", "vectors": 12345, "bytes": 2_500_000}]
    assert cache_lines(Path("c.sqlite"), rows) == ["c.sqlite", "    12,345 vectors        2.5 MB  openai|m|"]
    assert cache_lines(Path("c.sqlite"), []) == ["c.sqlite"]


def test_chat_answers_have_their_own_line():
    rows = [{"model": "openai-chat|u|m|seed=1", "vectors": 0, "bytes": 1_200_000, "generations": 240},
            {"model": "rerank|u|m", "vectors": 0, "bytes": 0, "pair_scores": 7}]
    assert cache_lines(Path("c.sqlite"), rows)[1:] == ["       240 answers            1.2 MB  openai-chat|u|m|seed=1",
                                                     "         7 pair scores            rerank|u|m"]
