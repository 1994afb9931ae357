"""Leakage-safe train/test(/dev) split of reranking or training rows, by query.

Rows whose queries are equal after normalisation (Unicode NFKC, case, whitespace and punctuation)
form one group, and a group never straddles two splits. Passages that appear in a held-out split and
in train are reported, and can be dropped from train so that the held-out rows are not seen in training.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from embedlab.data.output import atomic_files, check_output, dump_jsonl
from embedlab.data.records import plain, read_records
from embedlab.data.reranking import NEGATIVE_KEYS, POSITIVE_KEYS, RowIds, row_texts
from embedlab.data.text import text_key
from embedlab.errors import DataError

HELD_OUT = ("test", "dev")
Row = tuple[Path, int, dict, list[str], list[str]]  # (file, line, record with "__query", positives, negatives)


@dataclass
class SplitReport:
    source: str
    seed: int
    fractions: dict[str, float]
    rows: dict[str, int]
    queries: dict[str, int]
    query_groups_merged: int  # groups of more than one row (equal or normalised-equal queries)
    shared_passages: int  # distinct held-out passages that also occur in train
    shared_positives: int  # ... of which a positive of some held-out row
    train_rows_touching_shared: int
    dropped_from_train: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, str | int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def split_rows(path: str | Path, out_dir: str | Path, *, test: float = 0.2, dev: float = 0.0,
               seed: int = 0, drop_shared: bool = False, split: str | None = None,
               overwrite: bool = False) -> SplitReport:
    """Write train.jsonl, test.jsonl (dev.jsonl) and manifest.json under `out_dir`.

    The outputs are checked before anything is read: one that is the input (or inside it) is refused, and
    one that exists is refused unless `overwrite`. They are written as one set, the manifest last, so an
    interrupted split leaves none of them (`data.output.atomic_files`).
    """
    if not 0 < test < 1 or not 0 <= dev < 1 or test + dev >= 1:
        raise ValueError(f"need 0 < test, 0 <= dev and test + dev < 1 (got test={test}, dev={dev})")
    path, out_dir = Path(path), Path(out_dir)
    names = ["train", *(name for name in HELD_OUT if name != "dev" or dev)]
    targets = [out_dir / f"{name}.jsonl" for name in names] + [out_dir / "manifest.json"]
    for target in targets:
        check_output(target, inputs=[path], overwrite=overwrite)
    records = _read(path, split)
    assigned, merged = _assign(records, path, test=test, dev=dev, seed=seed)
    report = SplitReport(
        source=str(path), seed=seed, fractions={"test": test, "dev": dev},
        rows={}, queries={}, query_groups_merged=merged,
        shared_passages=0, shared_positives=0, train_rows_touching_shared=0)
    assigned["train"] = _shared_with_train(records, assigned, report, drop_shared=drop_shared)
    _write(records, {name: assigned[name] for name in names}, targets, report, path)
    return report


def _assign(records: list[Row], path: Path, *, test: float, dev: float, seed: int
            ) -> tuple[dict[str, list[int]], int]:
    """Row indices per split, whole query groups at a time; and the number of groups of several rows."""
    groups: dict[str, list[int]] = {}
    for index, (_, _, record, _, _) in enumerate(records):
        groups.setdefault(text_key(record["__query"]), []).append(index)
    return assign_groups(list(groups.values()), len(records), path, test=test, dev=dev, seed=seed)


def assign_groups(groups: list[list[int]], total: int, path: Path, *, test: float, dev: float, seed: int
                  ) -> tuple[dict[str, list[int]], int]:
    """Item indices per split (train, test, dev), whole groups at a time in a seeded order until each held-out split
    holds its fraction of the `total` items; and the number of groups of several items."""
    order = list(range(len(groups)))
    random.Random(seed).shuffle(order)
    targets = {"test": round(test * total), "dev": round(dev * total)}
    assigned: dict[str, list[int]] = {"train": [], "test": [], "dev": []}
    for key in order:
        name = next((s for s in HELD_OUT if len(assigned[s]) < targets[s]), "train")
        assigned[name].extend(groups[key])
    if not assigned["train"] or not assigned["test"]:
        raise DataError(f"too few query groups ({len(groups)}) to split", path=path,
                        hint="use more rows or a different --test fraction")
    return assigned, sum(len(g) > 1 for g in groups)


def _shared_with_train(records: list[Row], assigned: dict[str, list[int]], report: SplitReport, *,
                       drop_shared: bool) -> list[int]:
    """Count the held-out passages that train rows also hold (and drop them from train if asked);
    returns the train rows kept."""
    held_out_roles: dict[str, str] = {}
    for name in HELD_OUT:
        for index in assigned[name]:
            _, _, _, positives, negatives = records[index]
            for text in negatives:
                held_out_roles.setdefault(text, "negative")
            for text in positives:
                held_out_roles[text] = "positive"
    shared: set[str] = set()
    kept_train: list[int] = []
    dropped = {"passages": 0, "rows_without_positive": 0}
    for index in sorted(assigned["train"]):
        file, line, record, positives, negatives = records[index]
        hits = [t for t in positives + negatives if t in held_out_roles]
        if hits:
            report.train_rows_touching_shared += 1
            if len(report.examples) < 5 and hits[0] not in shared:
                report.examples.append({"train": f"{file}:{line}", "passage": hits[0][:120],
                                        "held_out_role": held_out_roles[hits[0]]})
            shared.update(hits)
        if drop_shared and hits:
            record = _without(record, set(hits))
            dropped["passages"] += len(hits)
            if not _texts(record, POSITIVE_KEYS):
                dropped["rows_without_positive"] += 1
                continue
            records[index] = (file, line, record, positives, negatives)
        kept_train.append(index)
    report.shared_passages = len(shared)
    report.shared_positives = sum(held_out_roles[t] == "positive" for t in shared)
    if drop_shared:
        report.dropped_from_train = dropped
    return kept_train


def _write(records: list[Row], assigned: dict[str, list[int]], targets: list[Path], report: SplitReport,
           source: Path) -> None:
    """Every split and then the manifest, renamed into place together at the end."""
    with atomic_files(targets) as partials:
        for (name, indices), target, partial in zip(assigned.items(), targets, partials):
            indices = sorted(indices)
            dump_jsonl(partial, ({k: v for k, v in records[i][2].items() if k != "__query"} for i in indices))
            report.rows[name] = len(indices)
            report.queries[name] = len({text_key(records[i][2]["__query"]) for i in indices})
            report.files[name] = {"path": target.name, "sha256": sha256_of(partial)}
        manifest = {"source_sha256": sha256_of(source) if source.is_file() else None, **report.as_dict()}
        partials[-1].write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _read(path: Path, split: str | None) -> list[Row]:
    records = []
    ids = RowIds()
    for file, line, record in read_records(path, split=split):
        query, positives, negatives = row_texts(record, file, line)
        ids.check(record, file, line)
        records.append((file, line, {**plain(record), "__query": query}, positives, negatives))
    if not records:
        raise DataError("no rows", path=path)
    return records


def _texts(record: dict, keys: tuple[str, ...]) -> list[str]:
    key = next((k for k in keys if k in record), None)
    return list(record.get(key) or []) if key else []


def _without(record: dict, texts: set[str]) -> dict:
    record = dict(record)
    for key in POSITIVE_KEYS + NEGATIVE_KEYS:
        if isinstance(record.get(key), list):
            record[key] = [t for t in record[key] if t not in texts]
    return record


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
