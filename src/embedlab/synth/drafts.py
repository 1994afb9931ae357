"""What a generator gives: draft queries (each with the passage it was written for and the corpus ids it is
judged relevant to), the corpus the set is searched in (a generator may change it: ICT takes the query sentence
out of its passage, `title` drops titles), and the passages it could not use, counted by reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from embedlab.synth.passages import Passage


@dataclass(frozen=True)
class Draft:
    text: str
    passage: str  # the id of the passage it was written for
    positives: tuple[str, ...]  # corpus ids judged relevant (grade 1)
    style: str = ""


@dataclass
class Generated:
    drafts: list[Draft]
    corpus: dict[str, Passage]
    skipped: Counter = field(default_factory=Counter)  # passages not used, by reason
    info: dict[str, Any] = field(default_factory=dict)  # the generator's provenance: prompts, usage, failures
