"""Sentence boundaries that know Chinese: 。！？；… (and ！？； full width, ‥), ASCII . ! ? before a space or
the end, a line break; closing quotes and brackets stay with their sentence. A full stop inside a number
(3.14, 1.000.000) or an abbreviation followed by a letter is no boundary: "." ends a sentence only before
whitespace, the end, or a CJK character. Used by sentence packing and the semantic splitter.
"""

from __future__ import annotations

import re

_END = re.compile(
    r"(?:[。！？；!?…‥]+|\.(?=\s|$|[\u3000-\u9fff\uff00-\uffef]))"  # terminators (a run counts once: ……, ?!)
    r"[”’\"'」』）)】》〉]*"  # closers that belong to the sentence
    r"|\n+"  # a line break always ends one
)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """[start, end) character spans of the sentences of `text[start:end]`, whitespace around each left out."""
    end = len(text) if end is None else end
    spans, at = [], start
    for match in _END.finditer(text, start, end):
        _add(spans, text, at, match.end())
        at = match.end()
    _add(spans, text, at, end)
    return spans


def _add(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
