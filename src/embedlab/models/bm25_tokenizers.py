"""Text -> tokens for BM25: `char`, `word`, `whitespace`, and `auto`, which picks by the corpus's script.

- `char`: mteb's Chinese baseline exactly: NFKC, lowercased, spaces dropped, every other character a
  token (punctuation and newlines too), then the bm25s Chinese stopword list.
- `word`: runs of Han characters are segmented by jieba (then the bm25s Chinese stopwords); the rest is
  tokenized as bm25s and mteb do for English: lowercased, words of 2+ word characters, the bm25s English
  stopwords removed, the Snowball English stemmer. On text without Han characters it is mteb's English.
- `whitespace`: lowercased, split on whitespace, nothing removed or stemmed (for text segmented already).
- `auto`: `char` when Han characters are at least 30% of the corpus's word characters (mteb's choice for
  Chinese), else `word` (mteb's choice for English).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence

from embedlab.errors import UnknownNameError, require

TOKENIZERS = {
    "auto": "char for Chinese text (Han characters >= 30% of word characters), else word",
    "word": "jieba for Han runs, English stopwords and Snowball stemmer for the rest",
    "char": "one token per character (mteb's Chinese baseline)",
    "whitespace": "lowercased words split on whitespace, no stopwords or stemming",
}
HAN_SHARE = 0.3
_SAMPLE = 2000  # documents looked at by `auto`, evenly spaced over the corpus
_HAN = re.compile("([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)")
_WORD_CHAR = re.compile(r"\w")
_BM25S_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token_pattern


def check_tokenizer(name: str) -> str:
    """The name, if it is a tokenizer; else an error listing the tokenizers and the closest one."""
    if name not in TOKENIZERS:
        raise UnknownNameError("BM25 tokenizer", name, TOKENIZERS)
    return name


def resolve(name: str, corpus: Sequence[str]) -> str:
    """The tokenizer `name` stands for on this corpus (`auto` decided by script; the others as they are)."""
    if check_tokenizer(name) != "auto":
        return name
    step = max(1, len(corpus) // _SAMPLE)
    sample = "".join(corpus[::step])
    word_chars = len(_WORD_CHAR.findall(sample))
    han = sum(len(run) for run in _HAN.findall(sample))
    return "char" if word_chars and han / word_chars >= HAN_SHARE else "word"


def tokenizer(name: str) -> Callable[[str], list[str]]:
    """The function text -> tokens of a resolved tokenizer (`char`, `word` or `whitespace`)."""
    if name == "char":
        return _CharTokenizer()
    if name == "word":
        return _WordTokenizer()
    if name == "whitespace":
        return lambda text: text.lower().split()
    raise UnknownNameError("resolved BM25 tokenizer", name, [n for n in TOKENIZERS if n != "auto"])


class _CharTokenizer:
    def __init__(self) -> None:
        self.stopwords = frozenset(_bm25s_tokenization().STOPWORDS_CHINESE)

    def __call__(self, text: str) -> list[str]:
        # mteb's _unicode_tokenize, then its "zh" stopwords
        chars = unicodedata.normalize("NFKC", text).lower().replace(" ", "")
        return [c for c in chars if c not in self.stopwords]


class _WordTokenizer:
    def __init__(self) -> None:
        tokenization = _bm25s_tokenization()
        self.zh_stopwords = frozenset(tokenization.STOPWORDS_CHINESE)
        self.en_stopwords = frozenset(tokenization.STOPWORDS_EN)
        self.stemmer = require("Stemmer", "BM25's English stemmer").Stemmer("english")
        self.stems: dict[str, str] = {}
        self.jieba = _jieba()

    def __call__(self, text: str) -> list[str]:
        tokens: list[str] = []
        for i, part in enumerate(_HAN.split(text.lower())):
            if i % 2:  # a run of Han characters
                tokens += [w for w in self.jieba.lcut(part) if w not in self.zh_stopwords]
            else:
                tokens += [self._stem(w) for w in _BM25S_TOKEN.findall(part) if w not in self.en_stopwords]
        return tokens

    def _stem(self, word: str) -> str:
        stem = self.stems.get(word)
        if stem is None:
            stem = self.stems[word] = self.stemmer.stemWord(word)
        return stem


def bm25s_module():
    """bm25s, imported quietly (it sets its own logger to DEBUG, so every index would log a line)."""
    bm25s = require("bm25s", "BM25")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _bm25s_tokenization():
    return bm25s_module().tokenization


def _jieba():
    """jieba's default tokenizer: its dictionary is loaded once per process, and words a program adds to
    it (`jieba.load_userdict`, `jieba.add_word`) apply here too."""
    jieba = require("jieba", "segmenting Chinese words for BM25")
    logging.getLogger("jieba").setLevel(logging.WARNING)  # it logs its dictionary loading to stderr by itself
    return jieba.dt
