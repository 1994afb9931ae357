"""The command-line options, one definition per concept, in groups that `--help` shows as sections.

Each group is a list of click options; a command takes the groups it uses (`options(*groups)`), so a flag is
spelled, typed and explained the same on every command (README "Command-line conventions" lists them, and
tests/cli/test_main.py checks that list against every command's `--help`). The values are turned into the Python
API's settings by the `pop_*` functions (`ModelOptions`, `RunOptions` fields, `EngineOptions`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import click

from embedlab.cli.renamed import RenamedChoice, renamed
from embedlab.models.registry import backend_help
from embedlab.search.names import DEFAULT_RRF_K, FUSIONS, INDEXES, RENAMED


class Grouped(click.Option):
    """An option that belongs to a section of `--help` (`group`)."""

    def __init__(self, *args, group: str = "Options", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.group = group


class Command(click.Command):
    """A command whose `--help` lists its options in sections, in the order the groups first appear."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Argument):
                continue  # the usage line names them
            record = param.get_help_record(ctx)
            if record is not None:
                sections.setdefault(getattr(param, "group", "Options"), []).append(record)
        for name, records in sections.items():
            with formatter.section(name):
                formatter.write_dl(records)


class Finite(click.FloatRange):
    """A number option: finite (click's FLOAT and FloatRange take `nan` and `inf`, and NaN passes every range check
    and turns a filter off), within the range given, if any."""

    def __init__(self, low: float | None = None, high: float | None = None, **kwargs) -> None:
        super().__init__(low, high, **kwargs)
        if low is None and high is None:
            self.name = "float"

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)

    def _describe_range(self) -> str:
        return super()._describe_range() if self.min is not None or self.max is not None else ""


FINITE = Finite()


def option(group: str, *decls: str, **attrs) -> click.Option:
    return click.option(*decls, cls=Grouped, group=group, **attrs)


def options(*groups: list):
    """A decorator adding the options of `groups`, in order."""
    flat = [o for group in groups for o in group]

    def decorate(command):
        for one in reversed(flat):
            command = one(command)
        return command

    return decorate


DATA = [
    option("Data", "--reranking", multiple=True, type=click.Path(path_type=Path), metavar="[NAME=]PATH",
           help="Reranking data: JSONL {query, positive, negative} or {query, pos, neg}, parquet, or a Hugging Face "
                "dataset directory. Repeatable."),
    option("Data", "--retrieval", multiple=True, type=click.Path(path_type=Path), metavar="[NAME=]PATH",
           help="Retrieval folder: corpus, queries, qrels (BEIR/MTEB or C-MTEB parquet). Repeatable."),
    option("Data", "--task", "task_names", multiple=True, metavar="NAME",
           help="A C-MTEB task by name (T2Reranking, T2Retrieval, MMarcoReranking, DuRetrieval, ...), read from "
                "--data-dir, $EMBEDLAB_DATA_DIR or the Hugging Face cache. Repeatable."),
    option("Data", "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
           help="Folder of downloaded dataset snapshots for --task."),
    option("Data", "--demo", is_flag=True,
           help="Use the bundled demo data, and the bundled default model when no --model is given."),
    option("Data", "--split", default=None, help="Split to read when the data has several (default: test, dev...)."),
]
SAMPLE = [
    option("Data", "--sample", type=click.IntRange(1), default=None,
           help="Evaluate a seeded sample of N rows / queries per task (recorded in the results)."),
    option("Data", "--seed", type=int, default=0, show_default=True, help="Seed of --sample."),
    option("Data", "--prune-corpus", type=click.IntRange(0), default=None, metavar="D",
           help="With --sample on retrieval: keep only judged documents + D random others (cheaper; scores go up, "
                "and every table says so). Default: the whole corpus."),
]
MODELS = [option("Model", "-m", "--model", "models", multiple=True, metavar="MODEL",
                 help="A model; repeat to compare models. Backends: " + backend_help())]


def _bm25_tokenizer(ctx, param, value: str) -> str:
    from embedlab.models.bm25_tokenizers import check_tokenizer  # an unknown name: one line, exit 2

    return check_tokenizer(value)


# how to run a model: read by the backends that declare each setting (a setting no model given reads is refused)
ENCODING = [
    option("Model", "--query-instruction", default=None, help="Prefix for queries only (e.g. a BGE instruction)."),
    option("Model", "--document-instruction", default=None, help="Prefix for documents only."),
    option("Model", "--batch-size", default=32, show_default=True, type=click.IntRange(1)),
    option("Model", "--max-length", default=None, type=click.IntRange(1), help="Truncate inputs to N tokens."),
    option("Model", "--device", default=None, help="cpu, cuda, cuda:1, mps (default: CUDA when present)."),
    option("Model", "--backend", type=click.Choice(["torch", "onnx", "openvino"]), default="torch", show_default=True,
           help="Local models: the inference backend (sentence-transformers' backend=): PyTorch, ONNX Runtime (pip "
                "install 'embedlab[onnx]') or OpenVINO ('embedlab[openvino]'); the export is made once and kept in "
                "~/.cache/embedlab/exports ($EMBEDLAB_EXPORT_DIR)."),
    option("Model", "--quantize", type=click.Choice(["int8"]), default=None,
           help="With --backend onnx|openvino: dynamic int8 (int8 weights, activations quantized at run time; no "
                "calibration data). Measure its quality cost: evaluate beside --backend torch and `embedlab compare`."),
]
API = [
    option("API models", "--base-url", default=None, help="The endpoint, e.g. http://localhost:8000/v1."),
    option("API models", "--api-key-env", default="OPENAI_API_KEY", show_default=True,
           help="The environment variable holding the key (never pass keys as arguments); 'none' for a server "
                "that needs none."),
    option("API models", "--dimensions", type=click.IntRange(1), default=None, help="Output dimensions."),
    option("API models", "--concurrency", type=click.IntRange(1), default=4, show_default=True,
           help="Requests in flight at once."),
    option("API models", "--max-inputs", type=click.IntRange(1), default=64, show_default=True,
           help="Texts per request."),
    option("API models", "--rpm", type=click.IntRange(1), default=None,
           help="At most N requests per minute (client-side)."),
    option("API models", "--tpm", type=click.IntRange(1), default=None,
           help="At most N tokens per minute (estimated from characters)."),
    option("API models", "--timeout", type=Finite(0, min_open=True), default=60.0, show_default=True,
           help="Seconds to wait for an answer; a request that takes longer is split in halves and later "
                "requests get fewer texts."),
    option("API models", "--input-type/--no-input-type", default=False,
           help="Send input_type query|passage (e5/Cohere/Voyage-style servers)."),
]
CACHE = [
    option("Cache", "--cache", "cache_path", type=click.Path(path_type=Path), default=None,
           help="Embedding cache (SQLite). Default: on for API models (~/.cache/embedlab), off for local."),
    option("Cache", "--no-cache", is_flag=True, help="Never read or write the embedding cache."),
]
BM25 = [
    option("BM25 (-m bm25)", "--bm25-k1", type=Finite(0), default=1.5, show_default=True,
           help="Term-frequency saturation."),
    option("BM25 (-m bm25)", "--bm25-b", type=Finite(0, 1), default=0.75, show_default=True,
           help="Document-length normalisation."),
    option("BM25 (-m bm25)", "--bm25-tokenizer", default="auto", show_default=True, callback=_bm25_tokenizer,
           help="auto (char for Chinese, else word), word (jieba for Chinese, English stopwords and stems), char "
                "(mteb's Chinese baseline), whitespace. With --cache, indexes are kept in indexes/ beside the cache."),
]
FUSION = [
    option("Hybrid (-m hybrid:A+B)", "--fusion", type=click.Choice(FUSIONS), default="rrf", show_default=True,
           help="Reciprocal rank fusion, distribution-based or relative (min-max) score fusion, as mteb's "
                "HybridSearch."),
    option("Hybrid (-m hybrid:A+B)", "--rrf-k", type=click.IntRange(0), default=DEFAULT_RRF_K, show_default=True,
           help="--fusion rrf: the rank constant k of 1/(k + rank)."),
    option("Hybrid (-m hybrid:A+B)", "--weights", default=None, metavar="W1,W2,...|sweep",
           help="One weight per sub-model, in order [default: equal]; 'sweep' evaluates a grid of weights from one "
                "run of each sub-model and reports the best, with its CI and tests."),
    option("Hybrid (-m hybrid:A+B)", "--fusion-depth", type=click.IntRange(1), default=None, metavar="N",
           help="Documents each sub-model gives the fusion [default: as mteb, max(100, the evaluation depth)]."),
]
MODEL_SETTINGS = ENCODING + API + CACHE + BM25 + FUSION
RERANKER = [
    option("Reranker", "--reranker", default=None, metavar="MODEL",
           help="Two-stage retrieval: rerank each model's top documents with this cross-encoder (a path, a hub id or "
                "ce:<model>) or rerank API (rerank:<model>, qianfan-rerank:<model>); one more run per depth, named "
                "'model >> reranker@depth'. On reranking rows it scores the candidates alone."),
    option("Reranker", "--rerank-depth", "rerank_depths", default=None, metavar="D[,D...]",
           help="How many of the first stage's top documents to rerank; several depths in one run score each pair "
                "once [default: 100]."),
    option("Reranker", "--reranker-base-url", default=None,
           help="With --reranker rerank:<model>: its endpoint, e.g. https://api.jina.ai/v1 [default: --base-url]."),
    option("Reranker", "--reranker-api-key-env", default=None,
           help="With --reranker rerank:<model>: the environment variable holding its key [default: --api-key-env]."),
]
ENGINE = [
    option("Engine", "--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
           help="local: encode in this process; ray: encode documents on a Ray cluster (pip install "
                "'embedlab[ray]') into a vector directory, resumable; local models only."),
    option("Engine", "--workers", type=click.IntRange(1), default=None,
           help="--engine ray: model copies encoding at once [default: one per CPU, or per GPU with "
                "--gpus-per-worker]."),
    option("Engine", "--gpus-per-worker", type=Finite(0), default=0.0, show_default=True,
           help="--engine ray: GPUs each worker holds (fp16 on CUDA; --batch-size is per worker)."),
    option("Engine", "--ray-address", default=None, metavar="ADDRESS",
           help="--engine ray: an existing cluster ('auto', host:port, ray://...) [default: a local one]."),
    option("Engine", "--vectors", default=None, metavar="DIR|URI",
           help="--engine ray: the vector directory (id-keyed shards) for one model: a folder, or a URI pyarrow can "
                "write (s3://bucket/prefix[?endpoint_override=host:port&scheme=http], gs://, hdfs://, abfs://; "
                "credentials from the environment, or in the URI, never shown); a rerun encodes only what is "
                "missing; another model's directory is refused [default: a temporary one]."),
]
_INDEX_HELP = ("exact (blockwise, trec_eval's tie order), flat (faiss, exhaustive), hnsw or ivf (faiss), usearch "
               "(its HNSW); an approximate index's cost is measured and reported against exact search")
INDEX = [
    option("Index", "--index", type=RenamedChoice(list(INDEXES), renamed=RENAMED), default="exact", show_default=True,
           help="Dense retrieval: " + _INDEX_HELP + " (pip install 'embedlab[faiss]' / '[usearch]')."),
    renamed("--search", "--index", "index", type=click.Choice(["exact", *RENAMED]), value=lambda v: RENAMED.get(v, v)),
]
COST = [
    option("Cost", "--max-cost", type=FINITE, default=None,
           help="API models: stop before sending anything if the estimated cost is higher."),
    option("Cost", "--price-per-mtok", type=FINITE, default=None,
           help="API models: price per million tokens (overrides the built-in table; recorded for reports)."),
]


def format_option(*choices: str, default: str = "table"):
    return option("Output", "--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True,
                  help="What is printed on stdout.")


OVERWRITE = option("Output", "--overwrite", is_flag=True,
                   help="Replace an existing output that embedlab did not write (its own results and reports are "
                        "regenerated without it); never an input.")
QUIET = option("Output", "-q", "--quiet", is_flag=True,
               help="No progress bars or lines, no loading bars or chatter from model libraries.")


def pop_model_options(opts: dict):
    """(ModelOptions, cache) from the options of MODEL_SETTINGS a command has (consumed from opts; the others keep
    their defaults). cache: False = none, None = the default (on for paid APIs), or a path."""
    from embedlab.models import ModelOptions

    cache_path, no_cache = opts.pop("cache_path", None), opts.pop("no_cache", False)
    keys = [name for name in (o.name for o in _params(MODEL_SETTINGS)) if name in opts]
    values = {key: opts.pop(key) for key in keys}
    if values.get("quantize") and values.get("backend", "torch") == "torch":
        raise click.UsageError("--quantize int8 needs --backend onnx or openvino (the export is what is quantized)")
    return ModelOptions(**values), False if no_cache else cache_path


def _params(group: list) -> list[click.Parameter]:
    """The click parameters a group of option decorators declares."""
    def bare():
        pass

    for decorator in group:
        bare = decorator(bare)
    return bare.__click_params__


def quiet_libraries(quiet: bool) -> None:
    """No loading bars or info chatter from transformers / the hub when -q is given or stderr is not a
    terminal (a log file gets no bar redraws); must run before those libraries are imported."""
    import sys

    if quiet or not sys.stderr.isatty():
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def pop_reranker_options(opts: dict, options) -> dict:
    """RunOptions fields of a two-stage run (reranker, rerank_depths, reranker_options) from RERANKER's options
    (consumed from opts); `options`: the models' ModelOptions, the base of the reranker's own."""
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
    if (base_url or key_env) and not reranker:
        raise click.UsageError(f"{'--reranker-base-url' if base_url else '--reranker-api-key-env'} needs a --reranker")
    own = dataclasses.replace(reranker_options(options), base_url=base_url or options.base_url,
                              api_key_env=key_env or options.api_key_env)
    return {"reranker": reranker, "rerank_depths": depths or (), "reranker_options": own}


def pop_engine_options(opts: dict, progress: bool):
    """EngineOptions for --engine ray (ray checked installed, the cluster and the vector directory reachable,
    before any model loads), None in process."""
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
