"""quality/lengths.py: lengths of every occurrence, in characters and in tokens, and texts over the max."""

from __future__ import annotations

from embedlab.quality.findings import Findings
from embedlab.quality.lengths import measure


class WordTokenizer:
    """A tokenizer as `token_counts` calls it: one token per word, plus two special tokens."""

    name_or_path = "words"

    def __call__(self, texts, **kwargs):
        return {"input_ids": [[0] * (len(text.split()) + 2) for text in texts]}


TEXTS = {"query": [("brew tea", "f:1"), ("brew tea", "f:2")],
         "positive": [("one two three four", "f:1"), ("one", "f:2")]}


def test_characters_of_every_occurrence():
    found = Findings()
    lengths = measure(TEXTS, found)
    assert lengths.values == {"chars": {"query": [8, 8], "positive": [18, 3]}}
    assert lengths.chars["positive"] == {"count": 2, "min": 3, "p50": 3, "p95": 18, "max": 18, "mean": 10.5}
    assert lengths.tokens == {} and found.done() == []


def test_tokens_and_texts_over_the_max_length():
    found = Findings()
    lengths = measure(TEXTS, found, tokenizer=WordTokenizer(), max_length=4)
    assert lengths.values["tokens"] == {"query": [4, 4], "positive": [6, 3]}
    assert lengths.tokens["positive"]["over_max"] == 1 and lengths.tokens["query"]["over_max"] == 0
    (too_long,) = found.done()
    assert (too_long.code, too_long.count, too_long.locations) == ("too_long", 1, ["f:1"])
    assert too_long.examples[0].text == "positive, 6 tokens: one two three four"
    assert too_long.details == {"max_length": 4, "by_kind": {"query": 0, "positive": 1}}


def test_tokens_without_a_max_length_report_nothing():
    found = Findings()
    lengths = measure(TEXTS, found, tokenizer=WordTokenizer())
    assert "over_max" not in lengths.tokens["query"] and found.done() == []
