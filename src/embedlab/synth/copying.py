"""How much of a query is copied from its document: the too-easy share. Units are words for Latin script (NFKC,
case-folded) and character bigrams for Chinese (a run of one Han character is its own unit): the share of the
query's units that occur in the document. Lexical copying inflates BM25, so a set of copied queries ranks lexical
models too high; the distribution is reported whether or not the filter removes anything."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNITS = re.compile(f"[{_HAN}]+|[^\\W{_HAN}]+")
BINS = 10


def units(text: str) -> list[str]:
    """Words and Han bigrams of `text`, in order."""
    found = []
    for run in _UNITS.findall(unicodedata.normalize("NFKC", text).casefold()):
        if re.match(f"[{_HAN}]", run):
            found += [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]
        else:
            found.append(run)
    return found


def copied_share(query: str, document: str) -> float:
    """The share of the query's units (words, Han bigrams) found in the document; 0 for a query without any."""
    asked = units(query)
    if not asked:
        return 0.0
    present = set(units(document))
    return sum(unit in present for unit in asked) / len(asked)


def distribution(shares: list[float], threshold: float) -> dict:
    """Mean, quantiles, a histogram in tenths and how many are above the threshold."""
    values = np.asarray(shares, dtype=np.float64)
    if not len(values):
        return {"queries": 0}
    counts, _ = np.histogram(values, bins=BINS, range=(0.0, 1.0))
    return {"queries": int(len(values)), "mean": float(values.mean()), "median": float(np.median(values)),
            "p90": float(np.quantile(values, 0.9)), "threshold": threshold,
            "above_threshold": int((values > threshold).sum()), "histogram": counts.tolist()}
