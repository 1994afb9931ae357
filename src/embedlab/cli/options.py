"""Options shared by the commands that embed text: what data and model (`eval`, `estimate`), and how
to run a model (also `mine`, `inspect`); and old spellings kept for one release (`renamed`, `RenamedChoice`)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from embedlab.models.hybrid import FUSIONS
from embedlab.models.registry import backend_help

_DATA = [
    click.option("-m", "--model", "models", multiple=True, metavar="MODEL",
                 help="A model; repeat to compare models. Backends: " + backend_help()),
    click.option("--reranking", multiple=True, type=click.Path(exists=True, path_type=Path),
                 help="Reranking data: JSONL {query, positive, negative} or {query, pos, neg}, parquet, "
                      "or a Hugging Face dataset directory. Repeatable."),
    click.option("--retrieval", multiple=True, type=click.Path(exists=True, path_type=Path),
                 help="Retrieval folder: corpus, queries, qrels (BEIR/MTEB or C-MTEB parquet). Repeatable."),
    click.option("--task", "task_names", multiple=True, metavar="NAME",
                 help="A C-MTEB task by name (T2Reranking, T2Retrieval, MMarcoReranking, DuRetrieval, ...), "
                      "read from --data-dir, $EMBEDLAB_DATA_DIR or the Hugging Face cache. Repeatable."),
    click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Folder of downloaded dataset snapshots for --task."),
    click.option("--demo", is_flag=True,
                 help="Use the bundled demo data, and the bundled default model when no --model is given."),
    click.option("--split", default=None, help="Split to read when the data has several (default: test, dev...)."),
    click.option("--sample", type=click.IntRange(1), default=None,
                 help="Evaluate a seeded sample of N rows / queries per task (recorded in the results)."),
    click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sample."),
    click.option("--prune-corpus", type=click.IntRange(0), default=None, metavar="D",
                 help="With --sample on retrieval: keep only judged documents + D random others "
                      "(cheaper; scores go up). Default: the whole corpus."),
    click.option("--reranker", default=None, metavar="MODEL",
                 help="Two-stage retrieval: rerank each model's top documents with this cross-encoder (a path, a "
                      "hub id or ce:<model>) or rerank API (rerank:<model>, qianfan-rerank:<model>); one more run "
                      "per depth, named 'model >> reranker@depth'. On reranking rows it scores the candidates alone."),
    click.option("--rerank-depth", "rerank_depths", default=None, metavar="D[,D...]",
                 help="With --reranker: how many of the first stage's top documents to rerank; several depths "
                      "in one run score each pair once [default: 100]."),
    click.option("--reranker-base-url", default=None,
                 help="With --reranker rerank:<model>: its endpoint, e.g. https://api.jina.ai/v1 "
                      "[default: --base-url]."),
    click.option("--reranker-api-key-env", default=None,
                 help="With --reranker rerank:<model>: the environment variable holding its key [default: --api-key-env]."),
]


def _bm25_tokenizer(ctx, param, value: str) -> str:
    from embedlab.models.bm25_tokenizers import check_tokenizer  # an unknown name: one line, exit 2

    return check_tokenizer(value)


# how to run a model: the same for every command that embeds (eval, estimate, mine)
_MODEL = [
    click.option("--query-instruction", default=None, help="Prefix for queries only (e.g. a BGE instruction)."),
    click.option("--document-instruction", default=None, help="Prefix for documents only."),
    click.option("--batch-size", default=32, show_default=True, type=click.IntRange(1)),
    click.option("--max-length", default=None, type=click.IntRange(1), help="Truncate inputs to N tokens."),
    click.option("--device", default=None, help="cpu, cuda, cuda:1, mps (default: CUDA when present)."),
    click.option("--base-url", default=None, help="API models: the endpoint, e.g. http://localhost:8000/v1."),
    click.option("--api-key-env", default="OPENAI_API_KEY", show_default=True,
                 help="API models: the environment variable holding the key (never pass keys as arguments)."),
    click.option("--dimensions", type=click.IntRange(1), default=None, help="API models: output dimensions."),
    click.option("--concurrency", type=click.IntRange(1), default=4, show_default=True,
                 help="API models: requests in flight at once."),
    click.option("--max-inputs", type=click.IntRange(1), default=64, show_default=True,
                 help="API models: texts per request."),
    click.option("--rpm", type=click.IntRange(1), default=None,
                 help="API models: at most N requests per minute (client-side)."),
    click.option("--tpm", type=click.IntRange(1), default=None,
                 help="API models: at most N tokens per minute (estimated from characters)."),
    click.option("--timeout", type=click.FloatRange(0, min_open=True), default=60.0, show_default=True,
                 help="API models: seconds to wait for an answer; a request that takes longer is split in halves "
                      "and later requests get fewer texts."),
    click.option("--input-type/--no-input-type", default=False,
                 help="API models: send input_type query|passage (e5/Cohere/Voyage-style servers)."),
    click.option("--cache", "cache_path", type=click.Path(path_type=Path), default=None,
                 help="Embedding cache (SQLite). Default: on for API models (~/.cache/embedlab), off for local."),
    click.option("--no-cache", is_flag=True, help="Never read or write the embedding cache."),
    click.option("--bm25-k1", type=click.FloatRange(0), default=1.5, show_default=True,
                 help="BM25: term-frequency saturation."),
    click.option("--bm25-b", type=click.FloatRange(0, 1), default=0.75, show_default=True,
                 help="BM25: document-length normalisation."),
    click.option("--bm25-tokenizer", default="auto", show_default=True, callback=_bm25_tokenizer,
                 help="BM25: auto (char for Chinese, else word), word (jieba for Chinese, English stopwords and "
                      "stems), char (mteb's Chinese baseline), whitespace. With --cache, indexes are kept in "
                      "indexes/ beside the cache file."),
    click.option("--fusion", type=click.Choice(FUSIONS), default="rrf", show_default=True,
                 help="hybrid:A+B models: reciprocal rank fusion, distribution-based or relative (min-max) score "
                      "fusion, as mteb's HybridSearch."),
    click.option("--rrf-k", type=click.IntRange(0), default=60, show_default=True,
                 help="hybrid models, --fusion rrf: the rank constant k of 1/(k + rank)."),
    click.option("--weights", default=None, metavar="W1,W2,...|sweep",
                 help="hybrid models: one weight per sub-model, in order [default: equal]; 'sweep' evaluates a grid "
                      "of weights from one run of each sub-model and reports the best, with its CI and tests."),
    click.option("--fusion-depth", type=click.IntRange(1), default=None, metavar="N",
                 help="hybrid models: documents each sub-model gives the fusion [default: as mteb, max(100, the "
                      "evaluation depth)]."),
]
_SHARED = _DATA + _MODEL

quiet_option = click.option("-q", "--quiet", is_flag=True,
                            help="No progress bars or lines, no loading bars or chatter from model libraries.")


def shared_options(command):
    """Model, data, sampling, API and cache options: the same for `eval` and `estimate`."""
    for option in reversed(_SHARED):
        command = option(command)
    return command


def model_options(command):
    """The options of _MODEL (instructions, batching, device, API, cache) without the data ones."""
    for option in reversed(_MODEL):
        command = option(command)
    return command


def pop_model_options(opts: dict):
    """(ModelOptions, cache) from the options of `model_options` (consumed from opts).

    cache: False = none, None = the default (on for paid APIs), or a path."""
    from embedlab.models import ModelOptions

    cache_path, no_cache = opts.pop("cache_path"), opts.pop("no_cache")
    keys = ("query_instruction", "document_instruction", "batch_size", "max_length", "device",
            "base_url", "api_key_env", "dimensions", "concurrency", "max_inputs", "input_type", "rpm", "tpm",
            "timeout", "fusion", "rrf_k", "weights", "fusion_depth")
    keys += ("bm25_k1", "bm25_b", "bm25_tokenizer")
    return ModelOptions(**{key: opts.pop(key) for key in keys}), False if no_cache else cache_path


def quiet_libraries(quiet: bool) -> None:
    """No loading bars or info chatter from transformers / the hub when -q is given or stderr is not a
    terminal (a log file gets no bar redraws); must run before those libraries are imported."""
    import sys

    if quiet or not sys.stderr.isatty():
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def note_renamed(old: str, new: str) -> None:
    """The one stderr line an old spelling prints while it is still accepted."""
    click.echo(f"note: {old} is now {new} (the old spelling goes in the next release)", err=True)


def renamed(old: str, new: str, dest: str, *, value: Callable[[Any], Any] | None = None, required: bool = False,
            **attrs):
    """A hidden option `old`, kept for one release: its value goes to the parameter `dest` (the option now
    spelled `new`), with a note on stderr. Place it among the command's options (below `@click.command`).

    `attrs` are the old option's click attributes (type, multiple, ...); `value` turns an old value into a
    new one. A multiple `dest` gets the old values added; a single one given both ways is a usage error.
    `required`: `dest` must be given one way or the other (declare the new option not required to click).
    """
    name = "renamed_" + old.strip("-").replace("-", "_")

    def decorate(function):
        @functools.wraps(function)
        def command(*args, **kwargs):
            given = kwargs.pop(name)
            ctx = click.get_current_context()
            if given is not None and given != ():
                several = isinstance(kwargs[dest], tuple)
                if not several and ctx.get_parameter_source(dest) is not ParameterSource.DEFAULT:
                    raise click.UsageError(f"give {new} only ({old} is its old spelling)")
                note_renamed(old, new)
                values = [value(v) if value else v for v in (given if attrs.get("multiple") else [given])]
                kwargs[dest] = (*kwargs[dest], *values) if several else values[0]
            if required and kwargs[dest] is None:
                raise click.MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == dest))
            return function(*args, **kwargs)

        return click.option(old, name, hidden=True, **attrs)(command)

    return decorate


class RenamedChoice(click.Choice):
    """A choice whose old values are still accepted for one release, with a note: they are not listed in
    `--help`. `RenamedChoice(["table", "json"], renamed={"text": "table"})`."""

    def __init__(self, choices, renamed: dict[str, str], **kwargs):
        super().__init__(choices, **kwargs)
        self.renamed = renamed

    def convert(self, value, param, ctx):
        if value in self.renamed:
            option = param.opts[-1] if param is not None else ""
            note_renamed(f"{option} {value}".strip(), f"{option} {self.renamed[value]}".strip())
            value = self.renamed[value]
        return super().convert(value, param, ctx)


class OldArgument(click.Argument):
    """An optional positional argument kept for one release: accepted, but not shown in the usage line."""

    def __init__(self, param_decls, **attrs):
        super().__init__(param_decls, required=False, **attrs)

    def get_usage_pieces(self, ctx):
        return []


def pop_reranker_options(opts: dict, options) -> dict:
    """RunOptions fields of a two-stage run (reranker, rerank_depths, reranker_options) from the options
    of _DATA (consumed from opts); `options`: the models' ModelOptions, the base of the reranker's own."""
    import dataclasses

    from embedlab.models.registry import reranker_options

    reranker, depths = opts.pop("reranker"), opts.pop("rerank_depths")
    base_url, key_env = opts.pop("reranker_base_url"), opts.pop("reranker_api_key_env")
    if depths is not None:
        try:
            depths = tuple(int(d) for d in depths.replace(" ", "").split(",") if d)
        except ValueError:
            raise click.BadParameter(f"'{depths}' is not a list of depths such as 20,50,100",
                                     param_hint="--rerank-depth") from None
    if depths is not None and not reranker:
        raise click.UsageError("--rerank-depth needs a --reranker")
    own = dataclasses.replace(reranker_options(options), base_url=base_url or options.base_url,
                              api_key_env=key_env or options.api_key_env)
    return {"reranker": reranker, "rerank_depths": depths or (), "reranker_options": own}


# where texts become vectors: in process, or on a Ray cluster (eval, mine)
_ENGINE = [
    click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                 help="local: encode in this process; ray: encode documents on a Ray cluster (pip install "
                      "'embedlab[ray]') into a vector directory, resumable; local models only."),
    click.option("--workers", type=click.IntRange(1), default=None,
                 help="--engine ray: model copies encoding at once [default: one per CPU, or per GPU with "
                      "--gpus-per-worker]."),
    click.option("--gpus-per-worker", type=click.FloatRange(0), default=0.0, show_default=True,
                 help="--engine ray: GPUs each worker holds (fp16 on CUDA; --batch-size is per worker)."),
    click.option("--ray-address", default=None, metavar="ADDRESS",
                 help="--engine ray: an existing cluster ('auto', host:port, ray://...) [default: a local one]."),
    click.option("--vectors", default=None, metavar="DIR|URI",
                 help="--engine ray: the vector directory (id-keyed shards) for one model: a folder, or a URI "
                      "pyarrow can write (s3://bucket/prefix[?endpoint_override=host:port&scheme=http], gs://, "
                      "hdfs://, abfs://; credentials from the environment, or in the URI, never shown); a rerun "
                      "encodes only what is missing; another model's directory is refused [default: a temporary "
                      "one]."),
]


def engine_options(command):
    """--engine ray and its settings (eval, mine)."""
    for option in reversed(_ENGINE):
        command = option(command)
    return command


def pop_engine_options(opts: dict, progress: bool):
    """EngineOptions for --engine ray (ray checked installed, before any model loads), None in process."""
    engine = opts.pop("engine")
    given = {name: opts.pop(name) for name in ("workers", "gpus_per_worker", "ray_address", "vectors")}
    if engine == "local":
        extra = [name for name, value in given.items() if value]
        if extra:
            raise click.UsageError(f"--{extra[0].replace('_', '-')} needs --engine ray")
        return None
    from embedlab.embedding.engines import EngineOptions
    from embedlab.errors import require

    require("ray", "--engine ray")
    if given["ray_address"] and given["ray_address"] != "local" and given["vectors"] is None:
        raise click.UsageError("--ray-address needs --vectors DIR, a folder every node of the cluster can read and "
                               "write, or an s3:// (gs://, hdfs://) URI: the workers write the vector shards there")
    if given["ray_address"]:
        from embedlab.embedding.engines.ray_data import check_address

        check_address(given["ray_address"])  # an unreachable cluster: one line before any model loads
    if given["vectors"] is not None:
        from embedlab.embedding.engines.location import open_location

        open_location(given["vectors"]).create()  # an unknown scheme, a missing or read-only bucket: the same
    return EngineOptions(workers=given["workers"], gpus_per_worker=given["gpus_per_worker"],
                         address=given["ray_address"], vectors=given["vectors"], progress=progress)
