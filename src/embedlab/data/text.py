"""What "the same text" means, everywhere: split groups, inspect's duplicates and leakage, mining's exclusions.

Two texts are the same when they are equal after Unicode NFKC, case folding, and removing whitespace and
punctuation ("Tea is green." and "tea is green"). A text made only of punctuation keeps its own identity.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


def normalise(text: str) -> str:
    """NFKC, case-folded, without whitespace or punctuation (may be empty)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


@lru_cache(maxsize=1 << 18)  # the checks ask again and again for the same texts
def text_key(text: str) -> str:
    """The identity of a text for "same text" checks: its normalised form, or itself when that is empty."""
    return normalise(text) or text
