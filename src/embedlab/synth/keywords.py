"""`keywords`: no LLM, deterministic: a passage's most BM25-salient terms as a keyword query.

Terms are BM25's `word` tokens (jieba words for Chinese, English words without stopwords, stemmed: `models.
bm25_tokenizers`); each term's salience is its BM25 weight in the passage (Lucene's idf over the whole corpus times
the saturated, length-normalised term frequency, k1 1.5, b 0.75, as `-m bm25` scores). The query is the top
TERMS terms, as they are written in the passage (the first surface form of a stem) and in the passage's order; a
passage's second query takes the next TERMS, and so on. The BM25-friendliest query there is: a baseline, and the
reason the too-easy share is reported.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from embedlab.models.bm25_tokenizers import tokenizer
from embedlab.synth.drafts import Draft, Generated
from embedlab.synth.passages import Passage

TERMS = 3
K1, B = 1.5, 0.75
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECE = re.compile(f"[{_HAN}]+|[^\\W{_HAN}]+")  # a run of Han characters, or a word of another script


def keyword_queries(corpus: list[Passage], sampled: list[Passage], per_passage: int) -> Generated:
    tokenize = tokenizer("word")
    tokens = {p.id: tokenize(p.content) for p in corpus}
    frequency = Counter(t for terms in tokens.values() for t in set(terms))
    average = sum(map(len, tokens.values())) / max(len(tokens), 1) or 1.0
    drafts, skipped = [], Counter()
    for passage in sampled:
        counts = Counter(tokens[passage.id])
        surface = surfaces(passage.content, tokenize)
        length = len(tokens[passage.id])
        weight = {t: _idf(frequency[t], len(tokens)) * n * (K1 + 1) / (n + K1 * (1 - B + B * length / average))
                  for t, n in counts.items() if t in surface}
        ranked = sorted(weight, key=lambda t: (-weight[t], surface[t][0]))
        made = 0
        for i in range(per_passage):
            terms = ranked[i * TERMS:(i + 1) * TERMS]
            if not terms or (i and len(terms) < TERMS):  # a second query needs terms of its own
                break
            text = " ".join(surface[t][1] for t in sorted(terms, key=lambda t: surface[t][0]))
            drafts.append(Draft(text, passage.id, (passage.id,), "keywords"))
            made += 1
        if not made:
            skipped["no keyword"] += 1
    return Generated(drafts, {p.id: p for p in corpus}, skipped)


def surfaces(text: str, tokenize) -> dict[str, tuple[int, str]]:
    """term -> (position of its first occurrence, how it is written there), for terms of two or more characters (a
    single Chinese character or letter is no keyword)."""
    found: dict[str, tuple[int, str]] = {}
    for piece in _PIECE.finditer(text):
        run = piece.group()
        for term in tokenize(run):
            at = run.find(term)  # a jieba word is a piece of its run; a stem is shown as the word it came from
            shown = term if at >= 0 and re.match(f"[{_HAN}]", term) else run
            if term not in found and len(shown) > 1:
                found[term] = (piece.start() + max(at, 0), shown)
    return found


def _idf(df: int, n: int) -> float:
    """Lucene's idf, as bm25s computes it."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
