"""`ict`: inverse cloze (Lee et al. 2019), no LLM: a sentence of a passage is the query, and the passage without
that sentence is the document it must find. Sentences are `chunking.sentences`' (Chinese punctuation, never inside
a number); which ones is seeded per passage, so a passage gets the same queries in any sample."""

from __future__ import annotations

import random
import re
from collections import Counter

from embedlab.chunking.sentences import sentence_spans
from embedlab.synth.drafts import Draft, Generated
from embedlab.synth.passages import Passage

MIN_CHARS = 8  # word characters a query sentence needs: shorter ones ("Yes.", a heading) ask nothing
_WORD = re.compile(r"\w")


def ict(corpus: list[Passage], sampled: list[Passage], per_passage: int, seed: int) -> Generated:
    """Up to `per_passage` sentences of each sampled passage as queries; the passage keeps at least one sentence."""
    documents = {p.id: p for p in corpus}
    drafts, skipped = [], Counter()
    for passage in sampled:
        spans = sentence_spans(passage.text)
        eligible = [i for i, (s, e) in enumerate(spans) if len(_WORD.findall(passage.text[s:e])) >= MIN_CHARS]
        k = min(per_passage, len(spans) - 1, len(eligible))
        if k < 1:
            skipped["a single sentence" if len(spans) < 2 else "no sentence long enough"] += 1
            continue
        chosen = sorted(random.Random(f"{seed}|{passage.id}").sample(eligible, k))
        documents[passage.id] = Passage(passage.id, _without(passage.text, [spans[i] for i in chosen]), passage.title)
        drafts += [Draft(passage.text[spans[i][0]:spans[i][1]], passage.id, (passage.id,), "ict") for i in chosen]
    return Generated(drafts, documents, skipped)


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the spans taken out, the whitespace around each gap collapsed."""
    parts, at = [], 0
    for start, end in spans:
        parts.append(text[at:start])
        at = end
    parts.append(text[at:])
    joined = "".join(parts)
    return re.sub(r"[ \t]{2,}", " ", re.sub(r"\n{3,}", "\n\n", joined)).strip()
