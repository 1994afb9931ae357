"""`embedlab chunks`: which chunking for my documents? Splitters x sizes x overlaps, each configuration's chunks
a retrieval corpus scored against the answers' spans (`chunking.evaluate_chunking`); the table on stdout, the
results JSON (read by compare, report, leaderboard) and an HTML page in the output folder."""

from __future__ import annotations

from pathlib import Path

import click

from embedlab.cli.options import (
    API,
    BM25,
    CACHE,
    COST,
    ENCODING,
    OVERWRITE,
    QUIET,
    Command,
    format_option,
    option,
    options,
    quiet_libraries,
)


def _list(kind):
    def convert(ctx, param, value: str):
        items = [v for v in value.replace(" ", "").split(",") if v]
        try:
            return [kind(v) for v in items]
        except ValueError:
            raise click.BadParameter(f"'{value}' is not a comma-separated list of {kind.__name__}s") from None
    return convert


@click.command("chunks", cls=Command)
@click.argument("docs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@option("Chunking", "--questions", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
        help="Questions with located answers: SQuAD / CMRC / DRCD JSON, or JSONL {query, doc_id, answers: "
                   "[text | {start, end}]} (without answers: document-level judgments) [default: DOCS when it is "
                   "SQuAD-format JSON].")
@option("Model", "-m", "--model", "models", multiple=True, required=True, metavar="MODEL",
        help="A model (as for eval: a local directory, a hub id, openai:<model>, bm25); repeatable.")
@options(ENCODING, API, CACHE, BM25, COST)
@option("Chunking", "--join-paragraphs", is_flag=True, help="SQuAD-format data: one document per article, its paragraphs "
        "joined by a blank line (answer offsets shifted), so that chunking has real work to do.")
@option("Chunking", "--splitter", "splitters", default="recursive,sentence,tokens,none", show_default=True,
        callback=_list(str), metavar="S[,S...]",
        help="tokens (fixed windows), recursive (semantic-text-splitter), sentence (packing; Chinese "
                   "punctuation), semantic (breaks where neighbouring sentences' embeddings diverge), none (the "
                   "document as one passage).")
@option("Chunking", "--size", "sizes", default="128,256", show_default=True, callback=_list(int), metavar="N[,N...]",
        help="Chunk sizes, in --size-unit.")
@option("Chunking", "--overlap", "overlaps", default="0", show_default=True, callback=_list(int), metavar="N[,N...]",
        help="Units neighbouring chunks share (tokens, recursive, sentence).")
@option("Chunking", "--size-unit", type=click.Choice(["tokens", "chars"]), default="tokens", show_default=True,
        help="What sizes and span metrics count: the tokenizer's tokens, or characters.")
@option("Chunking", "--tokenizer", default=None, metavar="MODEL", help="The model whose tokenizer counts tokens "
        "[default: the first local -m].")
@option("Chunking", "-k", "k", type=click.IntRange(1), default=5, show_default=True,
        help="Chunks handed to the LLM per query: span metrics, answer hit and context tokens at k.")
@option("Chunking", "--baseline", default=None, metavar="CONFIG", help="The configuration every other is compared with, "
        "as the table labels it (recursive-256-32, none) [default: the first].")
@option("Chunking", "--metric", default=None, help="The score compared [default: answer_hit@k; document-level: ndcg@10].")
@option("Chunking", "--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap and the tests.")
@format_option("table", "json")
@option("Output", "-o", "--output", type=click.Path(path_type=Path), default=Path("chunks"), show_default=True,
        help="Folder for results.json and report.html (both regenerated; another file of those names only with "
             "--overwrite).")
@options([OVERWRITE, QUIET])
def chunks_command(docs, questions, models, join_paragraphs, splitters, sizes, overlaps, size_unit, tokenizer, k,
                   baseline, metric, seed, fmt, output, overwrite, quiet, max_cost, price_per_mtok, **opts) -> None:
    """Which chunking for my documents? Every splitter x size x overlap, scored against the answers' spans.

    \b
    Examples:
      embedlab chunks squad_zh.json --join-paragraphs -m BAAI/bge-small-zh-v1.5 -m bm25 \\
          --splitter recursive,sentence,tokens,semantic,none --size 128,256,512 --overlap 0,32 -k 5 -o chunks/
      embedlab chunks docs/ --questions questions.jsonl -m ./my-model --size-unit chars --size 300,600
    """
    from embedlab.chunking.splitters import grid
    from embedlab.cli.options import pop_model_options  # noqa: F811 - the group's helper
    from embedlab.data.output import check_output

    quiet_libraries(quiet)
    configs = grid(splitters, sizes, overlaps)  # bad sizes, overlaps, splitters: one line, before anything is read
    from embedlab.models.registry import check_installed

    check_installed(models, others=[("semantic_text_splitter", "embedlab chunks")])
    sources = [*docs, *([questions] if questions else [])]
    settings, cache = pop_model_options(opts)
    from embedlab.run.options import RunOptions

    run = RunOptions(cache=cache, seed=seed, progress=not quiet, max_cost=max_cost, price_per_mtok=price_per_mtok,
                     announce=lambda line: click.echo(line, err=True))
    for target in (output / "results.json", output / "report.html"):
        check_output(target, inputs=[*sources, *run.kept_paths()], overwrite=overwrite, regenerate=True)
    documents, question_set = _read(docs, questions, join_paragraphs)
    units = _units(size_unit, tokenizer, models)
    from embedlab.chunking.run import ChunkOptions, evaluate_chunking

    if baseline is not None and baseline not in {c.label() for c in configs}:
        from embedlab.errors import UnknownNameError

        raise UnknownNameError("baseline configuration", baseline, [c.label() for c in configs])
    chunk = ChunkOptions(configs, k=k, baseline=baseline, name=_task_name(docs, questions))
    results = evaluate_chunking(list(models), documents, question_set, units, chunk, model_options=settings, run=run)
    _write(results, output, fmt, metric, seed)


def _read(docs, questions, join: bool):
    from embedlab.chunking.documents import read_documents
    from embedlab.chunking.questions import is_squad, read_questions, read_squad
    from embedlab.errors import EmbedlabError

    if len(docs) == 1 and is_squad(docs[0]) and (questions is None or questions == docs[0]):
        return read_squad(docs[0], join=join)
    if questions is None:
        raise EmbedlabError("give --questions (questions with answers located in the documents), unless DOCS is "
                            "SQuAD-format JSON, which holds both")
    if join:
        raise click.UsageError("--join-paragraphs applies to SQuAD-format data given as DOCS")
    documents = read_documents(docs)
    if is_squad(questions):
        raise EmbedlabError(f"{questions} is SQuAD-format JSON, which holds its own documents: give it as DOCS")
    return documents, read_questions(questions, documents)


def _units(size_unit: str, tokenizer: str | None, models):
    from embedlab.chunking.units import CharUnits, TokenUnits
    from embedlab.models.registry import backend_of

    if size_unit == "chars":
        return CharUnits()
    spec = tokenizer or next((m for m in models if backend_of(m) == "st"), None)
    if spec is None:
        raise click.UsageError("sizes in tokens need a tokenizer, and no -m is a local model: give --tokenizer MODEL "
                               "(a local model or hub id) or --size-unit chars")
    return TokenUnits.of_model(spec)


def _task_name(docs, questions) -> str:
    source = Path(questions or docs[0])
    parent = source.parent.parent.name if source.parent.name in ("original", "data") else source.parent.name
    return f"{parent or source.stem}/chunks" if parent else f"{source.stem}/chunks"


def _write(results, output: Path, fmt: str, metric: str | None, seed: int) -> None:
    from embedlab.cli.setup import write_page
    from embedlab.report.chunks import chunks_page, rich_chunks
    from embedlab.results.chunks import chunk_summaries

    summaries = chunk_summaries(results, metric=metric, seed=seed)
    output.mkdir(parents=True, exist_ok=True)
    results.to_json(output / "results.json")
    if fmt == "json":
        import json

        click.echo(json.dumps([s.as_dict() for s in summaries], ensure_ascii=False, indent=1))
    else:
        from embedlab.report.table import stdout

        for summary in summaries:
            for part in rich_chunks(summary):
                stdout().print(part)
    write_page(output, lambda: chunks_page(summaries))
