"""report/cache.py: what `embedlab cache stats` prints."""

from pathlib import Path

from embedlab.report.cache import cache_lines


def test_the_file_then_a_line_per_model_key():
    rows = [{"model": "openai|m|", "vectors": 12345, "bytes": 2_500_000}]
    assert cache_lines(Path("c.sqlite"), rows) == ["c.sqlite", "    12,345 vectors        2.5 MB  openai|m|"]
    assert cache_lines(Path("c.sqlite"), []) == ["c.sqlite"]
