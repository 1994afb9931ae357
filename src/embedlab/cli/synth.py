"""`embedlab synth`: no labels yet? An evaluation set written from your own documents (`synth DOCS -o OUT`), and
whether it ranks models as human labels do (`synth --validate SYNTH --against HUMAN -m ...`)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.core import ParameterSource

from embedlab.cli.options import (
    API,
    BM25,
    CACHE,
    COST,
    ENCODING,
    FUSION,
    OVERWRITE,
    QUIET,
    Command,
    format_option,
    option,
    options,
    pop_model_options,
    quiet_libraries,
)
from embedlab.models.registry import backend_help

G = "Synthetic set"
# the options of writing a set, refused with --validate
WRITING = ("generator", "per_passage", "sample", "language", "styles", "prompt", "generator_temperature",
           "generator_base_url", "generator_api_key_env", "chunk", "split", "filters", "round_trip_k", "too_easy",
           "duplicate_cosine", "max_query_chars", "reranking_rows")
F = "Filters"


def _styles(ctx, param, value: str) -> tuple[str, ...]:
    return tuple(v for v in value.replace(" ", "").split(",") if v)


@click.command("synth", cls=Command)
@click.argument("docs", nargs=-1, type=click.Path(exists=True, path_type=Path))
@option(G, "--generator", default="ict", show_default=True, metavar="NAME",
        help="ict (a sentence as the query, the passage without it as the document), title (title -> its passages), "
             "keywords (BM25-salient terms): no LLM, deterministic; or a chat model: openai-chat:<model> (any "
             "OpenAI-compatible /v1/chat/completions endpoint), qianfan-chat:<model> (QIANFAN_AK / QIANFAN_SK).")
@option(G, "--per-passage", type=click.IntRange(1), default=1, show_default=True, help="Queries per passage.")
@option(G, "--sample", type=click.IntRange(1), default=None, help="Write queries for a seeded sample of N passages "
        "(the corpus stays whole).")
@option(G, "--seed", type=int, default=0, show_default=True,
        help="Seed of the sample, ICT's sentences, styles, the chat model's seed and the bootstrap.")
@option(G, "--language", type=click.Choice(["auto", "zh", "en"]), default="auto", show_default=True,
        help="The queries' language: auto = each passage's script (Chinese or not); picks the template and what the "
             "language filter expects.")
@option(G, "--style", "styles", default="question", show_default=True, callback=_styles, metavar="S[,S...]",
        help="Chat models: question (factual), keywords (a keyword query), paraphrase (avoiding the passage's words); "
             "several: each passage gets one (seeded).")
@option(G, "--prompt", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
        help="Chat models: your own template, a text file holding {passage} (and {n}, the number of queries); the "
             "answer must be JSON {\"queries\": [...]}.")
@option(G, "--generator-temperature", type=click.FloatRange(0, 2), default=0.7, show_default=True,
        help="Chat models: the sampling temperature.")
@option(G, "--generator-base-url", default=None, help="Chat models: the endpoint [default: --base-url].")
@option(G, "--generator-api-key-env", default=None,
        help="Chat models: the variable holding the key [default: --api-key-env].")
@option(G, "--chunk", default="auto", show_default=True, metavar="auto|none|SPLITTER-SIZE[-OVERLAP]",
        help="How documents become passages (sizes in characters): auto cuts .txt/.md/JSONL documents with "
             "recursive-500 and takes a corpus as it is; none cuts nothing; e.g. sentence-300-50 cuts everything.")
@option(G, "--split", default=None, help="Split to read when DOCS has several.")
@option(F, "--filters", default="length,language,duplicates,round-trip", show_default=True, metavar="F[,F...]|all|none",
        help="Filters that remove queries: length, language, duplicates, too-easy, round-trip (each is reported; "
             "empty queries are always removed).")
@option(F, "--round-trip-k", type=click.IntRange(1), default=20, show_default=True,
        help="round-trip: the document must be in the top K of at least one -m retriever.")
@option(F, "--too-easy", type=click.FloatRange(0, 1), default=0.8, show_default=True,
        help="too-easy: the share of the query copied from its document above which it is too easy.")
@option(F, "--duplicate-cosine", type=click.FloatRange(0, 1), default=0.95, show_default=True,
        help="duplicates: the cosine (first embedding model of -m) from which a query duplicates an earlier one.")
@option(F, "--max-query-chars", type=click.IntRange(1), default=256, show_default=True,
        help="length: the longest query kept, in characters.")
@option(G, "--reranking-rows", is_flag=True,
        help="Also write reranking.jsonl: rows with negatives mined by the first embedding model of -m (as "
             "`embedlab mine`, its false-negative filter included).")
@option("Validation", "--validate", type=click.Path(exists=True, path_type=Path), default=None, metavar="SYNTH",
        help="Instead of writing a set: evaluate every -m on SYNTH and on --against, and compare the rankings.")
@option("Validation", "--against", type=click.Path(exists=True, path_type=Path), default=None, metavar="HUMAN",
        help="With --validate: the human-labelled data (a retrieval folder, or rows).")
@option("Validation", "--metric", default=None, help="With --validate: the score compared [default: each set's main "
        "score].")
@option("Model", "-m", "--model", "models", multiple=True, metavar="MODEL",
        help="Writing a set: the retrievers of the filters and the rows [default: bm25 and the bundled MiniLM]; "
             "--validate: the systems ranked. Backends: " + backend_help())
@options(ENCODING, API, CACHE, BM25, FUSION, COST)
@format_option("table", "json")
@option("Output", "-o", "--output", type=click.Path(path_type=Path), default=None,
        help="The synthetic set's folder (required to write one); with --validate, an optional folder for both "
             "results files and validation.json.")
@options([OVERWRITE, QUIET])
def synth_command(docs, output, validate, against, metric, models, fmt, overwrite, quiet, max_cost, price_per_mtok,
                  **opts) -> None:
    """No labels yet? Write an evaluation set from DOCS, or validate one against human labels.

    \b
    Examples:
      embedlab synth docs/ -o synth/ --generator openai-chat:qwen2.5-7b-instruct \\
          --generator-base-url http://127.0.0.1:8000/v1 --api-key-env none --per-passage 1 --sample 2000 --seed 42
      embedlab synth docs/ -o synth-ict/ --generator ict
      embedlab synth --validate synth/ --against human/ -m bm25 -m BAAI/bge-small-zh-v1.5
    """
    from embedlab.run.options import RunOptions

    quiet_libraries(quiet)
    settings, cache = pop_model_options(opts)
    run = RunOptions(cache=cache, seed=opts.pop("seed"), split=opts.pop("split"), progress=not quiet,
                     max_cost=max_cost, price_per_mtok=price_per_mtok, announce=lambda line: click.echo(line, err=True))
    if validate is not None:
        if docs or against is None:
            raise click.UsageError("--validate SYNTH compares with --against HUMAN, and takes no DOCS")
        given = [name for name in WRITING if click.get_current_context().get_parameter_source(name) ==
                 ParameterSource.COMMANDLINE]
        if given:
            raise click.UsageError(f"--{given[0].replace('_', '-')} writes a set; --validate compares two: leave it out")
        return _validate(validate, against, models, metric, settings, run, output, overwrite, fmt)
    if not docs or output is None or against is not None or metric is not None:
        raise click.UsageError("give DOCS and -o OUTPUT to write a synthetic set (--against and --metric go with "
                               "--validate)")
    from embedlab.synth import synthesize

    provenance = synthesize(docs, output, synth=_synth_options(opts, models, settings), model=settings, run=run,
                            overwrite=overwrite)
    if fmt == "json":
        click.echo(json.dumps(provenance, ensure_ascii=False, indent=1))
    else:
        from embedlab.report.synth import synth_lines

        click.echo("\n".join(synth_lines(provenance, output)))


def _synth_options(opts: dict, models, settings):
    import dataclasses

    from embedlab.synth import FilterSettings, SynthOptions
    from embedlab.synth.filters import parse_filters

    base_url, key_env = opts.pop("generator_base_url"), opts.pop("generator_api_key_env")
    generator_options = dataclasses.replace(settings, base_url=base_url or settings.base_url,
                                            api_key_env=key_env or settings.api_key_env) \
        if base_url or key_env else None
    filters = FilterSettings(on=parse_filters(opts.pop("filters")), max_chars=opts.pop("max_query_chars"),
                             language=opts.pop("language"), duplicate_cosine=opts.pop("duplicate_cosine"),
                             too_easy=opts.pop("too_easy"), round_trip_k=opts.pop("round_trip_k"))
    return SynthOptions(generator=opts.pop("generator"), per_passage=opts.pop("per_passage"), sample=opts.pop("sample"),
                        styles=opts.pop("styles"), prompt=opts.pop("prompt"), temperature=opts.pop("generator_temperature"),
                        chunk=opts.pop("chunk"), filters=filters, retrievers=tuple(models),
                        reranking_rows=opts.pop("reranking_rows"), generator_options=generator_options)


def _validate(synthetic: Path, human: Path, models, metric, settings, run, output, overwrite, fmt) -> None:
    from embedlab.data.output import atomic_folder, check_output, write_json
    from embedlab.report.synth import validation_lines
    from embedlab.synth import validate

    if len(models) < 2:
        raise click.UsageError("--validate ranks systems: give at least two -m")
    if output is not None:
        check_output(output, inputs=[synthetic, human, *run.kept_paths()], overwrite=overwrite, folder=True)
    found, on_synthetic, on_human = validate(synthetic, human, list(models), model=settings, run=run, metric=metric)
    if output is not None:
        with atomic_folder(output) as partial:
            on_synthetic.to_json(partial / "synthetic.json")
            on_human.to_json(partial / "human.json")
            write_json(partial / "validation.json", found.as_dict())
    if fmt == "json":
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=1))
    else:
        click.echo("\n".join(validation_lines(found)))
    if output is not None:
        click.echo(f"written: {output}/synthetic.json, human.json, validation.json", err=True)
