"""Options shared by the commands that embed text: what data and model (`eval`, `estimate`), and how
to run a model (also `mine`, `inspect`)."""

from __future__ import annotations

import os
from pathlib import Path

import click

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
]

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
    click.option("--input-type/--no-input-type", default=False,
                 help="API models: send input_type query|passage (e5/Cohere/Voyage-style servers)."),
    click.option("--cache", "cache_path", type=click.Path(path_type=Path), default=None,
                 help="Embedding cache (SQLite). Default: on for API models (~/.cache/embedlab), off for local."),
    click.option("--no-cache", is_flag=True, help="Never read or write the embedding cache."),
]
_SHARED = _DATA + _MODEL


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
            "base_url", "api_key_env", "dimensions", "concurrency", "max_inputs", "input_type", "rpm", "tpm")
    return ModelOptions(**{key: opts.pop(key) for key in keys}), False if no_cache else cache_path


def quiet_libraries(quiet: bool) -> None:
    """No loading bars or info chatter from transformers / the hub when -q is given or stderr is not a
    terminal (a log file gets no bar redraws); must run before those libraries are imported."""
    import sys

    if quiet or not sys.stderr.isatty():
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
