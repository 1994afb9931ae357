"""`synthesize()`: documents in, a synthetic retrieval set out (what `embedlab synth DOCS -o OUT` runs).

The order keeps a refused run cheap and clean: the output is checked (never an input, the cache, or an existing
folder without `overwrite`), the prompt and the documents are read and checked, the settings no model reads are
refused, then queries are generated (a chat model's cost estimated and checked before its first request), filtered
(`synth.filters`), and the folder written at once (`synth.folder`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from embedlab.data.output import check_output
from embedlab.errors import EmbedlabError, SetupError, UnknownNameError
from embedlab.models.base import ModelOptions
from embedlab.models.registry import CHAT, backend_of, load_chat, options_changed, unread_options
from embedlab.run.context import environment
from embedlab.run.evaluation import check_options_read
from embedlab.run.options import RunOptions
from embedlab.synth.filters import Checks, FilterSettings, apply_filters
from embedlab.synth.folder import write_folder
from embedlab.synth.generate import NO_LLM, no_llm, written
from embedlab.synth.passages import read_passages, sample_passages
from embedlab.synth.prompts import STYLES, read_prompt
from embedlab.synth.retrievers import Retrievers, default_retrievers


@dataclass
class SynthOptions:
    """What to generate and how to filter it; `generator_options`: the chat model's endpoint and client settings
    (default: the models' `ModelOptions`)."""

    generator: str = "ict"
    per_passage: int = 1
    sample: int | None = None  # a seeded sample of passages to write queries for (the corpus stays whole)
    styles: tuple[str, ...] = ("question",)
    prompt: str | Path | None = None
    temperature: float = 0.7
    chunk: str = "auto"
    filters: FilterSettings = field(default_factory=FilterSettings)
    retrievers: tuple = ()  # model names or Models, -m: round trip, near-duplicates, mining; empty: BM25 + the bundled MiniLM
    reranking_rows: bool = False
    generator_options: ModelOptions | None = None


def synthesize(docs: str | Path | Sequence[str | Path], output: str | Path, *, synth: SynthOptions | None = None,
               model: ModelOptions | None = None, run: RunOptions | None = None, overwrite: bool = False) -> dict:
    """Write a synthetic retrieval set for `docs` into the folder `output`; returns its provenance (synth.json).
    `run`: its seed (sample, ICT sentences, styles, the chat model's seed), cache, max_cost, price_per_mtok,
    progress, announce (the cost estimate and notes)."""
    synth, options, run = synth or SynthOptions(), model or ModelOptions(), run or RunOptions()
    docs = [Path(docs)] if isinstance(docs, (str, Path)) else [Path(d) for d in docs]
    output = Path(output)
    llm = _check(synth)
    template = read_prompt(synth.prompt) if synth.prompt is not None else None
    check_output(output, inputs=[*docs, *([synth.prompt] if synth.prompt else []), *run.kept_paths()],
                 overwrite=overwrite, folder=True)
    passages = read_passages(docs, chunk=synth.chunk, split=run.split)
    sampled = sample_passages(passages, synth.sample, run.seed)
    chat = load_chat(synth.generator, synth.generator_options or options, temperature=synth.temperature) if llm else None
    specs = _specs(synth)
    try:
        check_options_read(options, [*specs, *([chat] if chat else [])])
    except SetupError:
        if chat is not None:
            chat.close()
        raise
    retrievers = Retrievers(specs, _own(options, specs), run, defaulted=not synth.retrievers)
    try:
        generated = written(chat, passages.items, sampled, per_passage=synth.per_passage, styles=synth.styles,
                            language=synth.filters.language, custom=template, run=run) if chat else \
            no_llm(synth.generator, passages.items, sampled, synth.per_passage, run.seed)
        checks = Checks(retrievers.embed, retrievers.round_trip)
        filtered = apply_filters(generated.drafts, generated.corpus, synth.filters, checks, written=chat is not None)
        if not filtered.kept:
            raise EmbedlabError(f"no query left to write ({len(generated.drafts):,} generated, every one removed by "
                                "the filters: see their counts with --format json, or switch one off with --filters)")
        provenance = _provenance(synth, run, passages.source, len(sampled), generated, filtered,
                                 chat.info() if chat else None)
        return write_folder(output, generated.corpus, filtered.kept, filtered.removed, provenance,
                            retrievers.mine_rows if synth.reranking_rows else None)
    finally:
        retrievers.close()
        if chat is not None:
            chat.close()


def _check(synth: SynthOptions) -> bool:
    """Whether the generator is a chat model; the settings that do not apply to it refused before anything is read."""
    llm = synth.generator not in NO_LLM
    if llm and backend_of(synth.generator) not in CHAT:
        raise UnknownNameError("generator (ict, title, keywords, openai-chat:<model>, qianfan-chat:<model>)",
                               synth.generator, [*NO_LLM, *(f"{prefix}:<model>" for prefix in CHAT)])
    for style in synth.styles:
        if style not in STYLES:
            raise UnknownNameError("question style", style, STYLES)
    if not llm:
        given = [flag for flag, on in (("--prompt", synth.prompt is not None), ("--style", synth.styles != ("question",)),
                                       ("--generator-temperature", synth.temperature != 0.7),
                                       ("--generator-base-url / --generator-api-key-env",
                                        synth.generator_options is not None)) if on]
        if given:
            raise SetupError(f"{given[0]} applies to a chat model generator (openai-chat:, qianfan-chat:), not to "
                             f"'{synth.generator}': leave it out")
    if synth.per_passage < 1:
        raise SetupError("--per-passage is 1 or more")
    return llm


def _own(options: ModelOptions, specs: tuple) -> ModelOptions:
    """The retrievers' settings: those only the chat model reads (its endpoint, given once for both) back to their
    defaults, so that the retrievers' own runs do not refuse them."""
    default = ModelOptions()
    unread = unread_options(options_changed(options), specs)
    return dataclasses.replace(options, **{name: getattr(default, name) for name in unread})


def _specs(synth: SynthOptions) -> tuple[str, ...]:
    """The retrievers the run needs: the models given, or the default pair when a filter or the rows need one."""
    needed = {"duplicates", "round-trip"} & set(synth.filters.on) or synth.reranking_rows
    if synth.retrievers:
        return synth.retrievers
    return default_retrievers() if needed else ()


def _provenance(synth: SynthOptions, run: RunOptions, source: dict, sampled: int, generated, filtered,
                chat: dict | None) -> dict:
    settings = {**dataclasses.asdict(synth.filters), "on": list(synth.filters.on)}
    return {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "generator": {"name": synth.generator, "model": chat, "per_passage": synth.per_passage,
                      "styles": list(synth.styles), "prompt_file": str(synth.prompt) if synth.prompt else None,
                      **({"temperature": synth.temperature} if chat else {}), **generated.info},
        "seed": run.seed, "language": synth.filters.language,
        "source": {**source, "sampled": sampled, "sample": synth.sample},
        "drafts": len(generated.drafts), "skipped_passages": dict(generated.skipped),
        "filters": {"settings": settings, "steps": [step.as_dict() for step in filtered.steps],
                    "too_easy": filtered.too_easy},
        "environment": environment(),
    }
