"""Published mteb scores of other models, read from a local copy of mteb's results: a clone or snapshot of the public
results repository (`results/{org__model}/{revision}/{Task}.json`, older ones `results/{model}/{Task}.json`),
mteb's results cache (`~/.cache/mteb`: `results/` and `remote/results/`), or a results folder itself.

Both file formats: mteb >= 1.11 / 2.x `TaskResult` files (`task_name`, `scores` per split and subset) and the
legacy ones (`mteb_dataset_name`, scores directly under the split). Scores get embedlab's names: `ndcg_at_10` ->
`ndcg@10`; for reranking, mteb 1.x's `map` / `mrr` are C-MTEB's semantics (`v1.map`, `v1.mrr@10`) and
`map_at_1000`, `mrr_at_10`, ... mteb 2.x's (`v2.*`): which one a file holds is what its scores say.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from embedlab.errors import UnknownNameError
from embedlab.metrics.names import score_range
from embedlab.results.mteb_export import CUSTOM_PREFIX, V1_KEYS, custom_task_name
from embedlab.tasks.cmteb import CMTEB, TASKS, lookup

_AT = re.compile(r"(ndcg|map|recall|precision|mrr|hit_rate)_at_(\d+)")
_NOT_RECORDED = {None, "", "dataset revision not available", "revision_not_applicable"}


@dataclass
class Published:
    """One model's published result on one task, in embedlab's score names."""

    model: str
    revision: str  # the model's
    task: str  # mteb's current name of the task
    file: str  # relative to the folder given
    scores: dict[str, float]
    dataset_revision: str | None
    mteb_version: str | None
    legacy_format: bool  # a pre-1.11 mteb file
    semantics: str | None = None  # reranking: "v1" (C-MTEB / mteb 1.x) or "v2" (mteb 2.x); retrieval: None

    def data(self) -> str:
        """Which data the score is on, in words: the dataset and revision, and the file's format."""
        spec = TASKS.get(self.task)
        layout = spec.layout_of(self.dataset_revision) if spec else None
        if layout is not None:
            where = f"{spec.repo(layout)}@{self.dataset_revision[:8]}"
            where += ", C-MTEB's original data (mteb 1.x)" if layout == CMTEB else ""
        elif self.dataset_revision in _NOT_RECORDED:
            where = "dataset revision not recorded"
        elif self.dataset_revision.startswith("sha256:"):  # custom data exported by embedlab: its content hash
            where = f"data {self.dataset_revision[:19]}…"
        else:
            where = f"dataset revision {self.dataset_revision[:8]}"
        legacy = f", legacy results format of mteb {self.mteb_version}" if self.legacy_format else ""
        return f"published: {where}{legacy}"


def results_folders(root: str | Path) -> list[Path]:
    """The folders of model folders under `root`: a results repository's or mteb cache's `results/` (and the cache's
    `remote/results/`), or `root` itself."""
    root = Path(root)
    found = [p for p in (root / "results", root / "remote" / "results") if p.is_dir()]
    return found or [root]


def read_published(root: str | Path, tasks: dict[str, str], models: Iterable[str] = (),
                   skipped: list[str] | None = None) -> list[Published]:
    """Published results of the `tasks` ({name: type}, names as in the user's results; other data's as
    `export-mteb` names it) by every model (or those matching a `models` pattern: fnmatch, any case). A file of a
    task that cannot be used (unreadable, no scores of the task's split, a score that is not a number in its metric's
    range) is left out; `skipped` gets a line for each: the file and why."""
    patterns = [m.lower() for m in models]
    found = []
    for folder in results_folders(root):
        for task, kind in tasks.items():
            for path in _files_of(folder, task):
                model, revision = model_of(path, folder)
                if patterns and not any(fnmatch.fnmatch(model.lower(), p) for p in patterns):
                    continue
                result = read_file(path, task, kind)
                file = str(path.relative_to(Path(root)) if path.is_relative_to(Path(root)) else path)
                if isinstance(result, str):
                    if skipped is not None:
                        skipped.append(f"{file}: {result}")
                    continue
                result.model, result.revision, result.file = model, revision, file
                found.append(result)
    return found


def file_names(task: str) -> list[str]:
    """The names a task's result files have: a C-MTEB task's and the names it had; other data's exported name."""
    try:
        spec = lookup(task)
    except UnknownNameError:
        return [custom_task_name(task)]
    return [spec.name, *spec.aliases] if spec.name == task else [custom_task_name(task)]


def _files_of(folder: Path, task: str) -> list[Path]:
    """The task's result files; of other data, also its samples' (`export-mteb` names them `<name>-sample-...`)."""
    names = [f"{name}{sample}" for name in file_names(task)
             for sample in ("", *(["-sample-*-of-*-seed-*"] if name.startswith(CUSTOM_PREFIX) else []))]
    return [path for name in names for pattern in (f"*/*/{name}.json", f"*/{name}.json")
            for path in sorted(folder.glob(pattern))]


def model_of(path: Path, folder: Path) -> tuple[str, str]:
    """(model name, model revision) of a result file: its folder's model_meta.json, or the folder names."""
    meta = path.parent / "model_meta.json"
    try:
        data = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
        if data.get("name"):
            return str(data["name"]), str(data.get("revision") or "no_revision_available")
    except (OSError, ValueError, AttributeError, RecursionError):
        pass
    if path.parent.parent == folder:  # results/<model>/<Task>.json: the repository before revision folders
        return path.parent.name.replace("__", "/"), "no_revision_available"
    return path.parent.parent.name.replace("__", "/"), path.parent.name


def parse_file(path: Path, task: str, kind: str) -> Published | None:
    """A result file's scores on the task's split and default subset, in embedlab's names (None when it has none,
    is not an mteb result file, or holds a score that cannot be one: `read_file` says why)."""
    result = read_file(path, task, kind)
    return None if isinstance(result, str) else result


def read_file(path: Path, task: str, kind: str) -> Published | str:
    """A result file's scores on the task's split and default subset, in embedlab's names, or why there are none: not
    readable, not an mteb result file, no scores of the split, or a score that is not a number in its metric's range
    (NaN, infinite, a percentage: the whole file is left out, it is not what mteb writes)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        return f"not readable ({type(exc).__name__})"
    if not isinstance(data, dict):
        return "not an mteb result file"
    legacy = "mteb_dataset_name" in data and "scores" not in data
    splits = {k: v for k, v in data.items() if isinstance(v, dict)} if legacy else data.get("scores")
    if not isinstance(splits, dict):
        return "not an mteb result file (no scores)"
    spec = TASKS.get(task)
    split = spec.split if spec else next(iter(splits), None) if len(splits) == 1 else None
    entry = _default_subset(splits.get(split))
    if entry is None:
        return f"no scores of the '{split}' split's default subset"
    scores, semantics = embedlab_scores(entry, kind)
    kept = data.get("embedlab", {}).get("reranking_v1") if isinstance(data.get("embedlab"), dict) else None
    if kind == "reranking" and isinstance(kept, dict):  # exported by embedlab: the C-MTEB scores kept beside
        scores.update({ours: _number(kept[key]) for key, ours in V1_KEYS if key in kept})
    bad = next((name for name, value in scores.items() if not _in_range(name, value)), None)
    if bad is not None:
        low, high = score_range(bad)
        return f"its {bad} score is {scores[bad]!r}, not a number in {low:g}..{high:g}"
    if not scores:
        return "no scores embedlab reads"
    revision = data.get("dataset_revision")
    return Published("", "", task, "", scores, revision if isinstance(revision, str) else None,
                     str(data.get("mteb_version")) if data.get("mteb_version") else None, legacy, semantics)


def _number(value) -> float:
    """A JSON value as a float (NaN when it is no number: out of every range)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _in_range(name: str, value: float) -> bool:
    low, high = score_range(name)
    return low <= value <= high  # NaN is in no range


def _default_subset(block) -> dict | None:
    """The `default` subset's scores of a split: a list of subsets (>= 1.11), subsets by name, or the scores."""
    if isinstance(block, list):
        subsets = [s for s in block if isinstance(s, dict)]
        return next((s for s in subsets if s.get("hf_subset") == "default"), subsets[0] if len(subsets) == 1 else None)
    if isinstance(block, dict):
        nested = {k: v for k, v in block.items() if isinstance(v, dict)}
        if "default" in nested or (nested and not any(_AT.fullmatch(k) or k in ("map", "mrr") for k in block)):
            return nested.get("default") or (next(iter(nested.values())) if len(nested) == 1 else None)
        return block
    return None


def embedlab_scores(entry: dict, kind: str) -> tuple[dict[str, float], str | None]:
    """(scores in embedlab's names, reranking semantics) of one subset's mteb scores."""
    numbers = {k: _number(v) for k, v in entry.items() if _AT.fullmatch(k) or k in ("map", "mrr")}
    ranked = {f"{m[1]}@{m[2]}": v for k, v in numbers.items() if (m := _AT.fullmatch(k))}
    if kind != "reranking":
        return ranked, None
    if "map" in numbers or "mrr" in numbers:  # mteb 1.x's RerankingEvaluator: C-MTEB's MAP and MRR@10
        return {name: numbers[key] for key, name in (("map", "v1.map"), ("mrr", "v1.mrr@10")) if key in numbers}, "v1"
    return {f"v2.{name}": v for name, v in ranked.items()}, ("v2" if ranked else None)
