"""The generators, by name: `ict`, `title`, `keywords` (no LLM: deterministic baselines) and a chat model,
`openai-chat:<model>` / `qianfan-chat:<model>` (`models.chat`), asked through `synth.ask`."""

from __future__ import annotations

import random
from collections import Counter

from embedlab.models.chat import ChatModel
from embedlab.run.context import RunContext
from embedlab.run.options import RunOptions
from embedlab.synth.ask import ask_queries
from embedlab.synth.drafts import Draft, Generated
from embedlab.synth.ict import ict
from embedlab.synth.keywords import keyword_queries
from embedlab.synth.passages import Passage
from embedlab.synth.prompts import Template, choose

NO_LLM = {"ict": "a sentence as the query, the passage without it as the document (inverse cloze)",
          "title": "a title as the query, the passages it heads (without titles) as the documents",
          "keywords": "the passage's most BM25-salient terms as a keyword query"}


def titles(corpus: list[Passage], sampled: list[Passage]) -> Generated:
    """One query per distinct title of the sampled passages; every passage under that title is relevant. Titles are
    dropped from the corpus (a document that holds its title would be found by its title)."""
    headed: dict[str, list[str]] = {}
    for passage in corpus:
        if passage.title:
            headed.setdefault(passage.title, []).append(passage.id)
    drafts, seen, skipped = [], set(), Counter()
    for passage in sampled:
        if not passage.title:
            skipped["no title"] += 1
        elif passage.title not in seen:
            seen.add(passage.title)
            drafts.append(Draft(passage.title, passage.id, tuple(headed[passage.title]), "title"))
    return Generated(drafts, {p.id: Passage(p.id, p.text) for p in corpus}, skipped)


def no_llm(name: str, corpus: list[Passage], sampled: list[Passage], per_passage: int, seed: int) -> Generated:
    if name == "ict":
        return ict(corpus, sampled, per_passage, seed)
    if name == "title":
        return titles(corpus, sampled)
    return keyword_queries(corpus, sampled, per_passage)


def written(model: ChatModel, corpus: list[Passage], sampled: list[Passage], *, per_passage: int, styles: tuple[str, ...],
            language: str, custom: Template | None, run: RunOptions) -> Generated:
    """Queries a chat model writes for each sampled passage: its template (the user's, or the built-in one of the
    passage's language and a style, chosen per passage with the seed), asked once per distinct prompt."""
    asks = []
    for passage in sampled:
        style = random.Random(f"{run.seed}|{passage.id}").choice(styles)
        template = choose(passage.content, style, language=language, custom=custom)
        asks.append((passage, template, template.render(passage.content, per_passage)))
    with RunContext(run) as ctx:
        asked = ask_queries(model, [prompt for _, _, prompt in asks], per_passage, seed=run.seed, ctx=ctx)
    drafts, skipped = [], Counter()
    for passage, template, prompt in asks:
        drafts += [Draft(q, passage.id, (passage.id,), template.style) for q in asked.queries.get(prompt, [])]
        if prompt in asked.failed:
            skipped[f"unusable answer ({asked.failed[prompt]})"] += 1
    used = {t.sha256: t for _, t, _ in asks}
    info = {"model": model.info(), "prompts": [t.as_dict() for t in used.values()], "asking": asked.as_dict()}
    return Generated(drafts, {p.id: p for p in corpus}, skipped, info)
