"""What a user names as evaluation data, loaded as tasks: a path, a C-MTEB task name, or the demo.

`resolve` is the one place that turns those into tasks, so every command reads each data file once and
hands the same task objects to the estimate and to the run. A folder with corpus, queries and qrels is
retrieval data; a JSONL / parquet file or a dataset folder holds reranking rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from embedlab.data.mteb_layout import is_mteb_layout, load_mteb_layout
from embedlab.data.reranking import load_reranking
from embedlab.data.retrieval import is_retrieval_folder, load_retrieval
from embedlab.data.snapshots import copies, download, locate, revision_of, roots
from embedlab.errors import DataError, UnknownNameError
from embedlab.tasks import RerankingTask, RetrievalTask
from embedlab.tasks.cmteb import MTEB, CMTEBTask, is_layout_name, parse_name

Task = RerankingTask | RetrievalTask
Spec = str | Path | Task
DEMO = "demo"


def resolve(spec: Spec, *, expect: str | None = None, split: str | None = None,
            data_dir: str | Path | None = None) -> list[Task]:
    """The task(s) `spec` names; `expect` ("reranking" / "retrieval") refuses data of the other type.
    `NAME=PATH` names the task NAME (otherwise it is named after its dataset: `records.task_name`)."""
    named = _named(spec)
    if named is not None:
        return [dataclasses.replace(task, name=named[0])
                for task in resolve(named[1], expect=expect, split=split, data_dir=data_dir)]
    if isinstance(spec, (RerankingTask, RetrievalTask)):
        tasks = [spec]
    elif Path(spec).exists():
        tasks = [_load_path(Path(spec), expect, split)]
    elif str(spec) == DEMO:
        tasks = demo_tasks()
    elif _looks_like_name(str(spec)) or is_layout_name(str(spec)):
        tasks = [load_cmteb(str(spec), data_dir=data_dir)]
    else:
        raise DataError("no such file or directory", path=spec)
    if expect is not None:
        tasks = [t for t in tasks if t.type == expect] if str(spec) == DEMO else tasks
        for task in tasks:
            if task.type != expect:
                raise DataError(f"is {task.type} data, not {expect} data", path=task.source or spec,
                                hint=f"pass it as --{task.type}")
    return tasks


def resolve_all(specs: Spec | Iterable[Spec] | None, **options) -> list[Task]:
    """`resolve` of each spec, in order."""
    if specs is None:
        return []
    if isinstance(specs, (str, Path, RerankingTask, RetrievalTask)):
        specs = [specs]
    return [task for spec in specs for task in resolve(spec, **options)]


def distinct_names(tasks: list[Task]) -> list[Task]:
    """The tasks with names unique in the run: tasks that share a name get their source's parent folders
    until they differ (`a/rr` and `b/rr`); the same data given twice is refused."""
    sources = [t.source for t in tasks]
    for source in set(sources):
        if source and sources.count(source) > 1:
            raise DataError("is given twice", path=source, hint="give each data set once")
    names = [t.name for t in tasks]
    for name in {n for n in names if names.count(n) > 1}:
        group = [i for i, t in enumerate(tasks) if t.name == name]
        paths = [_parts(Path(tasks[i].source).resolve()) for i in group]
        for depth in range(2, max(map(len, paths)) + 1):
            tails = ["/".join(parts[-depth:]) for parts in paths]
            if len(set(tails)) == len(tails):
                break
        for i, tail in zip(group, tails):
            tasks[i] = dataclasses.replace(tasks[i], name=tail)
    return tasks


def demo_tasks() -> list[Task]:
    from embedlab import demo

    return [load_reranking(demo.RERANKING), load_retrieval(demo.RETRIEVAL)]


def load_cmteb(name: str, *, data_dir: str | Path | None = None) -> Task:
    """A C-MTEB task by name (`T2Reranking`), or by name and layout (`mteb/T2Reranking`, `C-MTEB/T2Reranking`),
    from a local copy of mteb 2.x's re-upload or of the original C-MTEB dataset (`find_copy`), or the hub when
    online; named as mteb names it, at mteb's split, with where it was read from in `task.dataset`."""
    try:
        spec, layout = parse_name(name)
    except UnknownNameError as exc:
        raise DataError(f"no such file or directory, and {exc}", path=name) from None
    layout, copy = find_copy(spec, data_dir, layout)
    dataset = {"task": spec.name, "layout": layout, "repo": spec.repo(layout), "revision": revision_of(copy),
               "split": spec.split}
    if layout == MTEB:
        task = load_mteb_layout(copy, split=spec.split, name=spec.name)
    elif spec.type == "reranking":
        task = load_reranking(copy, split=spec.split, name=spec.name)
    else:
        qrels = locate(spec.qrels_repo, data_dir)
        task = load_retrieval(copy, qrels=qrels, name=spec.name)
        dataset["qrels_revision"] = revision_of(qrels)
    if task.type != spec.type:
        raise DataError(f"holds {task.type} data, but {spec.name} is a {spec.type} task", path=copy,
                        hint=f"give a copy of {spec.repo(layout)}")
    return dataclasses.replace(task, dataset=dataset)


def find_copy(spec: CMTEBTask, data_dir: str | Path | None = None, layout: str | None = None) -> tuple[str, Path]:
    """(layout, folder) of the first local copy of the task: under each root (see `data.snapshots`), mteb's
    re-upload before the C-MTEB original (or only `layout`'s); a folder named after both holds the layout its
    files show. Downloaded (mteb's, at mteb's revision) when there is none and the hub is allowed."""
    layouts = (layout,) if layout else spec.layouts
    for root in roots(data_dir):
        for candidate_layout in layouts:
            for copy in copies(spec.repo(candidate_layout), root):
                if is_mteb_layout(copy) == (candidate_layout == MTEB):
                    return candidate_layout, copy
    return layouts[0], download([spec.repo(lay) for lay in layouts], data_dir, revision=spec.revision(layouts[0]))


def _load_path(path: Path, expect: str | None, split: str | None) -> Task:
    if is_mteb_layout(path):
        return load_mteb_layout(path, split=split)
    if is_retrieval_folder(path):
        return load_retrieval(path, split=split)
    if expect == "retrieval":
        raise DataError("is not a retrieval folder (corpus, queries and qrels files)", path=path,
                        hint="give the folder that holds them, or pass row files as --reranking")
    return load_reranking(path, split=split)


def _parts(path: Path) -> tuple[str, ...]:
    return (*path.parent.parts, path.stem if path.is_file() else path.name)


def _named(spec: Spec) -> tuple[str, str] | None:
    """(NAME, PATH) of a `NAME=PATH` spec whose PATH exists (and which is not itself a path)."""
    if not isinstance(spec, (str, Path)) or Path(spec).exists():
        return None
    name, sep, rest = str(spec).partition("=")
    return (name, rest) if sep and name and Path(rest).exists() else None


def _looks_like_name(text: str) -> bool:
    """No folder and no file suffix: meant as a task name (a typo gets a did-you-mean)."""
    return not ("/" in text or "\\" in text or Path(text).suffix)
