"""Results as mteb 2.x result files, laid out as mteb's `ResultCache` and the public results repository keep them:
`{org__model}/{revision}/{Task}.json` (mteb's `TaskResult`) and a `model_meta.json` per model and revision.

A C-MTEB task loaded by name (its `dataset` provenance recorded) is written under mteb's task name, split and
language, with the dataset revision it was read at (mteb 2.x's re-upload or the original C-MTEB dataset; when the
copy did not record its commit, the revision of that dataset in the task table, and the file says so). Other data
(or a sample of a named task) is a custom task `Custom-<name>` whose `dataset_revision` is the data's content hash;
a sample's name says which (`-sample-N-of-M-seed-S`, and `-pruned-D` when its corpus was pruned).

Scores are mteb's names (`ndcg@10` -> `ndcg_at_10`) with mteb's semantics: reranking as mteb 2.x scores it (v2:
each row's candidates ranked as a small retrieval problem: `map_at_1000`, `mrr_at_10`, `ndcg_at_10`). C-MTEB's /
mteb 1.x's reranking scores (v1) are not mteb 2.x scores: they are kept beside, under `embedlab.reranking_v1`,
never in `scores`. Everything embedlab knows that mteb has no field for is under the top-level `embedlab` key,
which mteb ignores.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from embedlab.errors import DataError, UnknownNameError
from embedlab.metrics.names import parse_metric
from embedlab.results.results import ModelRun, Results, TaskResult
from embedlab.results.table import display_names, short_name
from embedlab.tasks.cmteb import TASKS
from embedlab.tasks.cmteb_table import MTEB_VERSION
from embedlab.tasks.sampling import sample_note
from embedlab.tasks.types import task_type

CUSTOM_PREFIX = "Custom-"
UNKNOWN_LANGUAGE = "und-Zyyy"  # ISO 639-3 "undetermined", script "common"
V2_NOTE = ("reranking scored as mteb 2.x scores it (v2: each row's candidates ranked as a retrieval problem); "
           "C-MTEB / mteb 1.x scores (v1) are under embedlab.reranking_v1, not in scores")
V1_KEYS = (("map", "v1.map"), ("mrr_at_10", "v1.mrr@10"))  # embedlab.reranking_v1's keys -> embedlab's names
_FRAMEWORK = {"sentence-transformers": ["Sentence Transformers", "PyTorch"],
              "cross-encoder": ["Sentence Transformers", "PyTorch"], "openai-compatible": ["API"],
              "qianfan": ["API"], "rerank-api": ["API"], "qianfan-rerank": ["API"]}
_MODEL_TYPE = {"cross-encoder": ["cross-encoder"], "rerank-api": ["cross-encoder"],
               "qianfan-rerank": ["cross-encoder"], "bm25s": ["sparse"], "HybridModel": ["hybrid"]}


@dataclass
class MtebFile:
    path: PurePosixPath  # relative to the results folder
    content: dict[str, Any]
    task: str = ""  # mteb's task name ("" for model_meta.json)
    model: str = ""  # the run's display name


@dataclass
class Export:
    files: list[MtebFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the files cannot say on their own: said on stderr


def export_mteb(results: list[Results], *, models: tuple[str, ...] = (), name: str | None = None,
                revision: str | None = None, language: str = UNKNOWN_LANGUAGE) -> Export:
    """The mteb result files of every run of these results files (or of the `models` named: display, full or short
    names); `name` / `revision` replace the model's (one run only); `language` is custom data's, in mteb's form
    (ISO 639-3 + script: "zho-Hans")."""
    chosen = _chosen_runs(results, models)
    if name is not None and len(chosen) != 1:
        raise DataError(f"--name names one model, and {len(chosen)} runs were given", hint="pick one with --model")
    out, owner = Export(), {}
    for item, label, run in chosen:
        model = name or short_name(run.model["name"])
        rev = folder_name(revision or str(run.model.get("revision") or "no_revision_available"))
        folder = PurePosixPath(folder_name(model.replace("/", "__").replace(" ", "_"))) / rev
        files = [MtebFile(folder / "model_meta.json", model_meta(run.model, model, rev), model=label)]
        for result in run.tasks:
            content = task_result(result, created=item.created, embedlab_version=item.environment.get("embedlab"),
                                  model=run.model["name"], language=language, notes=out.notes)
            if content is not None:
                files.append(MtebFile(folder / f"{content['task_name']}.json", content, content["task_name"], label))
        for file in files:
            first = owner.setdefault(file.path, (label, file.content))
            if first[0] != label and (file.task or first[1] != file.content):
                raise DataError(f"{first[0]} and {label} would both be written to {file.path}",
                                hint="export one at a time (--model), or name them apart with --name / --revision")
            if first[0] == label:
                out.files.append(file)
    out.notes = list(dict.fromkeys(out.notes))  # a note of a task is said once, however many runs it has
    return out


def _chosen_runs(results: list[Results], models: tuple[str, ...]) -> list[tuple[Results, str, ModelRun]]:
    runs = [(item, run) for item in results for run in item.runs]
    labels = display_names([run for _, run in runs])
    chosen = [(item, label, run) for label, (item, run) in zip(labels, runs)
              if not models or {label, run.model["name"], short_name(run.model["name"])} & set(models)]
    unknown = [m for m in models if not any(m in (label, run.model["name"], short_name(run.model["name"]))
                                            for _, label, run in chosen)]
    if unknown:
        raise UnknownNameError("model", unknown[0], labels)
    return chosen


def task_result(result: TaskResult, *, created: str = "", embedlab_version: str | None = None, model: str = "",
                language: str = UNKNOWN_LANGUAGE, notes: list[str] | None = None) -> dict[str, Any] | None:
    """One task's mteb `TaskResult` as JSON (None, with a note, when it has no mteb main score)."""
    notes = notes if notes is not None else []
    name, revision, split, languages, how = _identity(result, language, notes)
    scores, main = mteb_scores(result)
    if main not in scores:
        notes.append(f"{result.task}: not exported: no {main} in the results (re-run eval)")
        return None
    extra: dict[str, Any] = {"version": embedlab_version, "model": model, "task": result.task, "data": how,
                             "data_hash": result.data_hash, "sample": result.sample, "dataset": result.dataset,
                             "counts": result.counts}
    if task_type(result.type).mteb_prefix == "v2.":
        extra["semantics"] = V2_NOTE
        extra["reranking_v1"] = {key: result.scores[ours] for key, ours in V1_KEYS if ours in result.scores}
    return {"dataset_revision": revision, "task_name": name, "mteb_version": MTEB_VERSION,
            "scores": {split: [{**scores, "main_score": scores[main], "hf_subset": "default",
                                "languages": languages, "mteb_version": MTEB_VERSION}]},
            "evaluation_time": result.timings.get("total_seconds"), "kg_co2_emissions": None,
            "date": _timestamp(created), "embedlab": extra}


def mteb_scores(result: TaskResult) -> tuple[dict[str, float], str]:
    """(scores under mteb's names, mteb's main score name): `ndcg@10` -> `ndcg_at_10`; of a reranking task only
    the `v2.*` scores (mteb 2.x's semantics); the main score is mteb's for the task type."""
    kind = task_type(result.type)
    scores = {}
    for key, value in result.scores.items():
        if not key.startswith(kind.mteb_prefix):
            continue
        metric = parse_metric(key.removeprefix(kind.mteb_prefix))
        scores[f"{metric.measure}_at_{metric.k}"] = value
    return scores, kind.mteb[1]


def model_meta(info: dict[str, Any], name: str, revision: str) -> dict[str, Any]:
    """mteb's `ModelMeta` of a run's model: what embedlab knows of it, None where it knows nothing."""
    backend = str(info.get("backend", ""))
    unknown = ("release_date", "languages", "n_parameters", "memory_usage_mb", "license", "open_weights",
               "public_training_code", "public_training_data", "reference", "similarity_fn_name", "use_instructions",
               "training_datasets", "adapted_from", "superseded_by", "citation", "contacts", "experiment_kwargs",
               "loader")
    return {"name": name, "revision": revision, **dict.fromkeys(unknown), "loader_kwargs": {},
            "max_tokens": info.get("max_length"), "embed_dim": info.get("dimension"),
            "framework": _FRAMEWORK.get(backend, []), "modalities": ["text"],
            "model_type": _MODEL_TYPE.get(backend, ["dense"])}


def folder_name(text: str) -> str:
    """A folder name every file system takes (mteb's own replacements, then anything unsafe as `_`)."""
    return re.sub(r"[^\w.\-=+@,]", "_", text).strip(".") or "_"


def _identity(result: TaskResult, language: str, notes: list[str]) -> tuple[str, str, str, list[str], str]:
    """(task name, dataset revision, split, languages, how the data is known) of a result in mteb's terms."""
    source = result.dataset or {}
    spec = TASKS.get(source.get("task", ""))
    if spec is not None and not result.sample:
        recorded = source.get("revision")
        revision = recorded or spec.revision(source["layout"]) or "unknown"
        if not recorded:
            notes.append(f"{result.task}: the copy read did not record its commit: exported at {source['repo']}'s "
                         f"revision in the task table ({revision[:8]})")
        how = f"{source['repo']}@{revision}" + ("" if recorded else " (revision assumed from the task table)")
        return spec.name, revision, spec.split, [spec.language], how
    name = custom_task_name(result.task)
    if result.sample:
        sample = result.sample
        name += f"-sample-{sample.get('n')}-of-{sample.get('of')}-seed-{sample.get('seed')}"
        name += f"-pruned-{sample.get('distractors') or 0}" if sample.get("corpus") == "pruned" else ""
        notes.append(f"{result.task}: a sample, not mteb's task ({sample_note(sample)}): exported as {name}")
    elif result.task in TASKS or result.task.split("/")[-1] in TASKS:
        notes.append(f"{result.task}: these results do not record which dataset the task was read from (written "
                     f"before embedlab recorded it): exported as {name}; re-run eval to export it as mteb's task")
    return name, result.data_hash, "test", [language], f"custom data {result.data_hash}"


def custom_task_name(task: str) -> str:
    """The mteb task name of data that is not a C-MTEB task: `demo/reranking` -> `Custom-demo_reranking`."""
    return CUSTOM_PREFIX + folder_name(task.replace("/", "_"))


def _timestamp(created: str) -> float | None:
    try:
        return dt.datetime.fromisoformat(created).timestamp() if created else None
    except ValueError:
        return None
