"""What the commands that run models share: data, models and run settings read from the options (`run_setup`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from embedlab.cli.options import pop_engine_options, pop_model_options, pop_reranker_options
from embedlab.data.output import check_output


def run_setup(opts: dict, output: Path | None = None, *, outputs: tuple[Path, ...] = (), overwrite: bool = False,
              requires: tuple[tuple[str, str], ...] = (), **run_extra):
    """(model specs, loaded tasks, ModelOptions, RunOptions) from the shared options (consumed from opts).

    The data is read here, once: the estimate and the run get the same task objects. The `output` (and any
    other `outputs`) given are checked before any data is read: never an input (data, a run file given as a model,
    the cache, the vector folder, the folder of saved runs) nor a folder; an existing one is replaced only when
    embedlab wrote it (a results file, a report), or with `overwrite`. Every optional package the models, the
    reranker, the index, the engine (and `requires`: (module, what needs it) pairs) need is checked first: one line
    naming the pip command, before anything is read."""
    from embedlab.data.resolve import distinct_names
    from embedlab.models.registry import check_installed
    from embedlab.run.evaluation import load_tasks
    from embedlab.run.options import RunOptions

    models = list(opts.pop("models"))
    reranking, retrieval = list(opts.pop("reranking")), list(opts.pop("retrieval"))
    task_names, demo = list(opts.pop("task_names")), opts.pop("demo")
    if demo:
        from embedlab import demo as bundled

        models = models or [bundled.default_model()]
        reranking = reranking or [bundled.RERANKING]
        retrieval = retrieval or [bundled.RETRIEVAL]
    if not models:
        raise click.UsageError("give at least one --model (or --demo)")
    if not reranking and not retrieval and not task_names:
        raise click.UsageError("give --reranking and/or --retrieval data, --task NAME (or --demo)")
    check_installed(models, reranker=opts.get("reranker"), others=[*requires, *run_requires(opts)])
    options, cache = pop_model_options(opts)
    if "engine" in opts:  # eval and mine run on an engine
        run_extra["engine"] = pop_engine_options(opts, run_extra.get("progress", False))
        if run_extra["engine"] is not None and run_extra["engine"].vectors is not None and len(models) > 1:
            raise click.UsageError("--vectors holds one model's vectors: give one -m with it, or leave it out")
    if "index" in opts:
        run_extra["index"] = opts.pop("index")
    if "reranker" in opts:
        run_extra.update(pop_reranker_options(opts, options))
    run = RunOptions(cache=cache, **{key: opts.pop(key) for key in ("split", "sample", "seed", "prune_corpus",
                                                                     "data_dir")}, **run_extra)
    data = [path for spec in (*reranking, *retrieval) for path in [Path(str(spec).split("=", 1)[-1])]]
    if run.engine is not None and run.engine.vectors is not None and "://" not in str(run.engine.vectors):
        check_output(run.engine.vectors, inputs=data, overwrite=True, folder=True, role="vector folder")
    for path in [output, *outputs] if output is not None else outputs:
        check_output(path, inputs=[*data, *run_files(models), *run.kept_paths()], overwrite=overwrite,
                     regenerate=True)
    tasks = distinct_names(load_tasks(reranking, run, expect="reranking") + load_tasks(retrieval, run, expect="retrieval")
                           + load_tasks(task_names, run))
    return models, tasks, options, run



def run_requires(opts: dict) -> list[tuple[str, str]]:
    """(module, option) pairs the run's --index, --engine and --backend need."""
    from embedlab.models.export import backend_requires
    from embedlab.search.names import INDEX_REQUIRES, index_name

    index = index_name(opts["index"]) if opts.get("index") else "exact"
    backend = opts.get("backend") or "torch"
    return ([(INDEX_REQUIRES[index], f"--index {index}")] if index in INDEX_REQUIRES else []) \
        + ([("ray", "--engine ray")] if opts.get("engine") == "ray" else []) \
        + [(module, f"--backend {backend}") for module in backend_requires(backend)]


def run_files(models: list[str]) -> list[Path]:
    """The run files given as models (`-m run:FILE`): inputs no output may replace."""
    from embedlab.models.registry import backend_of, name_part

    return [Path(name_part(spec)) for spec in models if backend_of(spec) == "run"]


def write_page(output: Path, page: Callable[[], str]) -> None:
    """A folder command's `report.html` (`page()` builds it) beside its `results.json`, then the line saying what was
    written; without matplotlib the page is left out with a note (the table and the results are still there)."""
    from embedlab.data.output import write_text
    from embedlab.errors import MissingDependencyError

    written = [output / "results.json"]
    try:
        write_text(output / "report.html", page())
        written.append(output / "report.html")
    except MissingDependencyError as exc:
        click.echo(f"note: no report.html: {exc}", err=True)
    click.echo(f"written: {', '.join(map(str, written))}", err=True)
