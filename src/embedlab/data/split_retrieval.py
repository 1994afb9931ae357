"""Split a retrieval folder by passage: a synthetic set of `embedlab synth` (or any corpus / queries / qrels).

Queries that share a relevant document are one group, and a group never straddles two splits: no document is a
positive of a training query and of a held-out one, so a model trained on `train.jsonl` never saw the passages the
held-out queries must find. `train.jsonl` holds training rows `{_id, query, positive, negative}` for `finetune
--train` (positives: the relevant documents, highest grade first; negatives: the documents judged 0, then the mined
negatives of the set's `reranking.jsonl` when it has one); `test/` (and `dev/`) is a retrieval folder of the whole
corpus with the held-out queries and their judgments (`eval --retrieval`, `finetune --retrieval-test`). The files
appear together, `manifest.json` last.
"""

from __future__ import annotations

import json
from pathlib import Path

from embedlab.data.output import atomic_files, check_output, dump_jsonl
from embedlab.data.records import read_records
from embedlab.data.retrieval import load_retrieval
from embedlab.data.split import HELD_OUT, SplitReport, assign_groups, sha256_of
from embedlab.tasks.retrieval import RetrievalTask

FOLDER_FILES = ("corpus.jsonl", "queries.jsonl", "qrels.tsv")


def split_retrieval(folder: str | Path, out_dir: str | Path, *, test: float = 0.2, dev: float = 0.0, seed: int = 0,
                    split: str | None = None, overwrite: bool = False) -> SplitReport:
    """Write train.jsonl, test/ (dev/) and manifest.json under `out_dir` (see the module docstring)."""
    if not 0 < test < 1 or not 0 <= dev < 1 or test + dev >= 1:
        raise ValueError(f"need 0 < test, 0 <= dev and test + dev < 1 (got test={test}, dev={dev})")
    folder, out_dir = Path(folder), Path(out_dir)
    held = [name for name in HELD_OUT if name != "dev" or dev]
    targets = [out_dir / "train.jsonl", *(out_dir / name / file for name in held for file in FOLDER_FILES),
               out_dir / "manifest.json"]
    for target in targets:
        check_output(target, inputs=[folder], overwrite=overwrite)
    task = load_retrieval(folder, split=split)
    ids = list(task.queries)
    groups = _groups(task, ids)
    assigned, merged = assign_groups(groups, len(ids), folder, test=test, dev=dev, seed=seed)
    report = SplitReport(source=str(folder), seed=seed, fractions={"test": test, "dev": dev}, rows={}, queries={},
                         query_groups_merged=merged, shared_passages=0, shared_positives=0,
                         train_rows_touching_shared=0)
    chosen = {name: [ids[i] for i in sorted(assigned[name])] for name in ["train", *held]}
    negatives = _mined(folder)
    with atomic_files(targets) as partials:
        report.rows["train"] = dump_jsonl(partials[0], (_row(task, qid, negatives.get(qid, [])) for qid in chosen["train"]))
        for index, name in enumerate(held):
            corpus, queries, qrels = partials[1 + 3 * index: 4 + 3 * index]
            dump_jsonl(corpus, ({"_id": key, "text": text} for key, text in task.corpus.items()))
            report.rows[name] = dump_jsonl(queries, ({"_id": qid, "text": task.queries[qid]} for qid in chosen[name]))
            qrels.write_text("query-id\tcorpus-id\tscore\n" + "".join(
                f"{qid}\t{doc}\t{grade}\n" for qid in chosen[name] for doc, grade in task.qrels[qid].items()),
                encoding="utf-8")
        for name in ["train", *held]:
            report.queries[name] = len(chosen[name])
        report.files = {"train": {"path": "train.jsonl", "sha256": sha256_of(partials[0])},
                        **{name: {"path": f"{name}/", "sha256": sha256_of(partials[2 + 3 * i])}
                           for i, name in enumerate(held)}}
        manifest = {"layout": "retrieval, split by passage", **report.as_dict()}
        partials[-1].write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return report


def _groups(task: RetrievalTask, ids: list[str]) -> list[list[int]]:
    """Query indices grouped so that queries sharing a relevant document are together (union-find)."""
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    first: dict[str, int] = {}
    for index, qid in enumerate(ids):
        for doc, grade in task.qrels[qid].items():
            if grade > 0:
                parent[root(index)] = root(first.setdefault(doc, index))
    groups: dict[int, list[int]] = {}
    for index in range(len(ids)):
        groups.setdefault(root(index), []).append(index)
    return list(groups.values())


def _row(task: RetrievalTask, qid: str, mined: list[str]) -> dict:
    judged = sorted(task.qrels[qid].items(), key=lambda item: (-item[1], item[0]))
    positives = [task.corpus[doc] for doc, grade in judged if grade > 0]
    negatives = [task.corpus[doc] for doc, grade in judged if grade <= 0]
    return {"_id": qid, "query": task.queries[qid], "positive": positives,
            "negative": negatives + [text for text in mined if text not in negatives and text not in positives]}


def _mined(folder: Path) -> dict[str, list[str]]:
    """The mined negatives of a synthetic set's reranking rows, by query id (none without the file)."""
    path = folder / "reranking.jsonl"
    if not path.is_file():
        return {}
    return {str(record.get("_id")): list(record.get("negative") or []) for _, _, record in read_records(path)}
