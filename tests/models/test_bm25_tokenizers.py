"""BM25 tokenizers: char is mteb's Chinese tokenizer, word is jieba + bm25s's English, auto picks by script."""

from __future__ import annotations

import unicodedata

import pytest

from embedlab.errors import UnknownNameError
from embedlab.models.bm25_tokenizers import TOKENIZERS, check_tokenizer, resolve, tokenizer

bm25s = pytest.importorskip("bm25s")
Stemmer = pytest.importorskip("Stemmer")
ZH_STOPWORDS = set(bm25s.tokenization.STOPWORDS_CHINESE)


def mteb_char(text: str) -> list[str]:
    """mteb's `_unicode_tokenize` and its "zh" stopwords, as written in mteb 2.x's bm25.py."""
    chars = list(unicodedata.normalize("NFKC", text).lower().replace(" ", ""))
    return [c for c in chars if c not in ZH_STOPWORDS]


@pytest.mark.parametrize("text", ["Ｈｅｌｌｏ 世界，的\n猫", "黑豹队的防守只丢了 308分。", "", "  ", "ＡＢＣ①ﬁ"])
def test_char_is_mteb_chinese_tokenizer(text):
    assert tokenizer("char")(text) == mteb_char(text)


def test_char_keeps_punctuation_and_newlines_but_drops_spaces_and_stopwords():
    assert tokenizer("char")("Ｈｅｌｌｏ 世界，的\n猫") == ["h", "e", "l", "l", "o", "世", "界", ",", "\n", "猫"]


@pytest.mark.parametrize("text", ["The running dogs are jumping over 2 fences!", "Boundary-layer flows, at Mach 3.5",
                                  "don't STOP the high-speed aircraft's wings", ""])
def test_word_on_latin_text_is_bm25s_english(text):
    expected = bm25s.tokenize([text], stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=False,
                              show_progress=False)[0]
    assert tokenizer("word")(text) == expected


def test_word_segments_han_runs_with_jieba_and_drops_chinese_stopwords():
    assert tokenizer("word")("我爱北京天安门") == ["爱", "北京", "天安门"]  # 我 is a stopword


def test_word_handles_mixed_scripts_run_by_run():
    assert tokenizer("word")("使用Python编程的languages, running quickly") == \
        ["python", "编程", "languag", "run", "quick"]


def test_whitespace_lowercases_and_splits_only():
    assert tokenizer("whitespace")("The  Cats\tran 北京 天安门\n") == ["the", "cats", "ran", "北京", "天安门"]


def test_auto_picks_char_for_chinese_and_word_for_the_rest():
    assert resolve("auto", ["黑豹队的防守只丢了308分", "NFL 球队"]) == "char"
    assert resolve("auto", ["boundary layer flows", "黑豹"]) == "word"  # Han below 30% of word characters
    assert resolve("auto", ["", "!!"]) == "word"
    assert resolve("whitespace", ["黑豹队"]) == "whitespace"


def test_an_unknown_tokenizer_names_the_known_ones_and_the_closest():
    with pytest.raises(UnknownNameError, match=r"unknown BM25 tokenizer 'wrod'; did you mean 'word'\?") as caught:
        check_tokenizer("wrod")
    assert "\n" not in str(caught.value)
    assert all(name in str(caught.value) for name in TOKENIZERS)
    with pytest.raises(UnknownNameError):
        resolve("jieba", ["text"])
