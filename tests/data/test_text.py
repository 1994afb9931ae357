"""data/text.py: the one definition of "the same text"."""

from __future__ import annotations

import pytest

from embedlab.data.text import normalise, text_key


@pytest.mark.parametrize("a, b", [("Tea is green.", "tea is green"), ("ｑｕｅｓｔｉｏｎ ７!", "QUESTION  7"),
                                  ("为什么？", "为什么"), ("Straße", "STRASSE"), ("a\tb\nc", "abc")])
def test_same_text_after_nfkc_case_whitespace_and_punctuation(a, b):
    assert normalise(a) == normalise(b) and text_key(a) == text_key(b)


def test_different_words_stay_different():
    assert text_key("green tea") != text_key("black tea")
    assert text_key("tea 1") != text_key("tea 2")


def test_a_text_of_punctuation_only_keeps_its_own_identity():
    assert normalise("?!") == normalise("...") == ""
    assert text_key("?!") == "?!" and text_key("...") == "..." and text_key("?!") != text_key("...")
    assert text_key("") == ""
