"""Convert between the row layouts embedlab reads, in any container it reads.

Layouts (named by a string): "reranking" `{_id?, query, positive: [..], negative: [..]}` (C-MTEB),
"flag" `{query, pos: [..], neg: [..], prompt?, pos_scores?, neg_scores?, type?}` (FlagEmbedding), and
"triplets" `{anchor, positive, negative}` (sentence-transformers). A retrieval folder (corpus, queries,
qrels) is read as reranking rows (see `retrieval_rows`). The container follows the output path (see
`writer`): `.jsonl`, `.parquet`, or a folder for a Hugging Face dataset. "retrieval" turns rows into a
BEIR folder over the pool of their passages (see `rows_to_retrieval`).

Lossless where the formats allow: between reranking and flag only `positive`/`pos` and `negative`/`neg`
are renamed and every other field is kept unchanged, in every container (a round trip gives back the
same records; tables store a field missing on some rows as null, and nulls read from a table are
treated as missing). Where a layout cannot hold something, it says so: a triplet has no place for `_id`,
`prompt`, scores or any other field, so expanding rows that have them needs `allow_lossy`; grouping
triplets back into rows keeps every text but not which negative was paired with which positive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from embedlab.data import triplets
from embedlab.data.output import check_output
from embedlab.data.records import (
    TABLE_SUFFIXES,
    Record,
    choose_split,
    find_split_files,
    read_json,
    read_records,
)
from embedlab.data.reranking import NEGATIVE_KEYS, POSITIVE_KEYS, RowIds, row_texts
from embedlab.data.retrieval import is_retrieval_folder
from embedlab.data.rows_to_retrieval import Collection, rows_to_retrieval
from embedlab.data.writer import (
    check_target,
    container_of,
    write_beir,
    write_records,
)
from embedlab.errors import DataError, UnknownNameError

LAYOUTS = ("reranking", "flag", "triplets")
TARGETS = (*LAYOUTS, "retrieval")
TEXT_KEYS = {"reranking": ("positive", "negative"), "flag": ("pos", "neg")}
ID_KEYS = ("_id", "id")
_RENAMES = {"reranking": {"pos": "positive", "neg": "negative"},
            "flag": {"positive": "pos", "negative": "neg"}}
_ROW_TEXT_KEYS = ("query", *POSITIVE_KEYS, *NEGATIVE_KEYS)
_CONTAINER_NAMES = {"jsonl": "JSONL file", "parquet": "parquet file", "dataset": "dataset folder"}
_REASONS = {"no_positive": "without a positive", "no_judgments": "without any judgment"}


@dataclass
class ConvertReport:
    source: str
    target: str
    source_layout: str  # reranking | flag | reranking+flag | triplets | retrieval
    target_layout: str  # reranking | flag | triplets | retrieval
    container: str  # jsonl | parquet | dataset | folder (retrieval)
    rows_read: int = 0  # queries, for a retrieval folder
    rows_written: int = 0  # queries, into a retrieval folder
    written: dict[str, int] = field(default_factory=dict)  # retrieval folder: queries, documents, judgments
    mapping: dict[str, str] = field(default_factory=dict)  # source field -> target field
    kept: list[str] = field(default_factory=list)  # other fields, carried over unchanged
    dropped: dict[str, int] = field(default_factory=dict)  # field -> rows: the target cannot hold it
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> source rows not written
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One paragraph: what was read and written, and everything that was not kept as it was."""
        unit = ("query", "queries") if self.source_layout == "retrieval" else ("row", "rows")
        written = f"{count(self.rows_written, 'row')} ({self.target_layout}, {self.container})"
        if self.target_layout == "retrieval":
            w = self.written
            written = (f"{count(w['queries'], 'query', 'queries')}, {count(w['documents'], 'document')} and "
                       f"{count(w['judgments'], 'judgment')} (retrieval folder)")
        parts = [f"read {count(self.rows_read, *unit)} ({self.source_layout}) from {self.source}; wrote "
                 f"{written} to {self.target}."]
        if self.mapping:
            parts.append("fields: " + ", ".join(f"{a} -> {b}" for a, b in self.mapping.items()) + ".")
        parts.append("kept unchanged: " + (", ".join(self.kept) or "no other field") + ".")
        if self.dropped:
            parts.append("dropped (the target layout has no place for them): "
                         + ", ".join(f"{k} ({count(n, 'row')})" for k, n in self.dropped.items()) + ".")
        if self.skipped:
            parts.append("skipped: " + ", ".join(f"{count(n, *unit)} {_REASONS.get(k, k.replace('_', ' '))}"
                                                 for k, n in self.skipped.items()) + ".")
        return " ".join(parts + self.notes)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'1 row', '2,000 rows'."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def convert(source: str | Path, target: str | Path, *, to: str | None = None, split: str | None = None,
            negatives: int = 0, seed: int = 0, keep_ids: bool = True, allow_lossy: bool = False,
            overwrite: bool = False) -> ConvertReport:
    """Convert `source` rows to the `to` layout (default: the source's own) and write them to `target`.

    `negatives` (retrieval folder only): random corpus passages added to each row's negatives, seeded by
    `seed`. `keep_ids=False` removes `_id`/`id` fields on purpose. `allow_lossy` lets fields the target
    layout cannot hold be dropped (they are reported); without it that is an error naming the field.
    `to="retrieval"`: rows into a BEIR folder `target` (see `rows_to_retrieval`).
    """
    source, target = Path(source), Path(target)
    if to is not None and to not in TARGETS:
        raise UnknownNameError("layout", to, TARGETS)
    if negatives < 0:
        raise ValueError(f"negatives must be >= 0, got {negatives}")
    if not source.exists():
        raise DataError("no such file or directory", path=source)
    if to == "retrieval":
        return _to_retrieval(source, target, split=split, negatives=negatives, keep_ids=keep_ids,
                             allow_lossy=allow_lossy, overwrite=overwrite)
    container = container_of(target)
    check_target(source, target, overwrite=overwrite)
    if is_retrieval_folder(source):
        report = ConvertReport(str(source), str(target), "retrieval", to or "reranking", container)
        rows = _from_retrieval(source, report, split=split, negatives=negatives, seed=seed,
                               with_ids=keep_ids and report.target_layout != "triplets")
        layout = "reranking"
    else:
        if negatives:
            raise DataError("random negatives are drawn from a retrieval corpus, and this is not a retrieval "
                            "folder (corpus, queries, qrels)", path=source,
                            hint="to add (hard) negatives to rows, use `embedlab mine`")
        rows = _read(source, split)
        layout = _layout(rows)
        report = ConvertReport(str(source), str(target), layout, to or layout, container, rows_read=len(rows))
        if report.target_layout not in LAYOUTS:
            raise DataError("rows use both key styles (positive/negative and pos/neg)", path=source,
                            hint="pass --to reranking or --to flag")
        if not keep_ids:
            rows = _without_ids(rows, report)
        note = _split_note(source, split)
        if note:
            report.notes.append(note)
    rows = _to_layout(rows, layout, report, allow_lossy)
    if report.source_layout == "retrieval":  # the rows were made here: say from what, nothing to keep
        report.kept = []
        report.mapping = _retrieval_mapping(report.target_layout, keep_ids)
    if report.target_layout == "triplets":
        _check_pairs(rows, container)
    if not rows:
        raise DataError("nothing to write: every row was skipped", path=source)
    missing = write_records(rows, target, container)
    report.rows_written = len(rows)
    if missing:
        report.notes.append("stored as null where a row lacks the field (read back as missing): "
                            + ", ".join(f"{k} ({count(n, 'row')})" for k, n in missing.items()) + ".")
    return report


def _to_retrieval(source: Path, target: Path, *, split: str | None, negatives: int, keep_ids: bool,
                  allow_lossy: bool, overwrite: bool) -> ConvertReport:
    """Rows (or triplets, grouped by anchor) into a BEIR folder over the pool of their passages."""
    if is_retrieval_folder(source) or negatives:
        raise DataError("--to retrieval reads rows, and this is a retrieval folder" if not negatives else
                        "random negatives are drawn from a retrieval corpus; a retrieval folder made from rows "
                        "has every passage of the rows already", path=source,
                        hint="to clean a retrieval folder, use `embedlab inspect SOURCE --fix -o OUT`")
    if target.suffix.lower() in (".jsonl", ".ndjson", ".parquet", ".tsv"):
        raise DataError("a retrieval folder is a folder (corpus.jsonl, queries.jsonl, qrels.tsv)", path=target,
                        hint="give a folder name")
    check_output(target, inputs=[source], overwrite=overwrite, folder=True)
    if target.is_dir() and not is_retrieval_folder(target):
        raise DataError("exists and is not a retrieval folder, so it is not replaced", path=target,
                        hint="give a new folder name")
    rows = _read(source, split)
    layout = _layout(rows)
    report = ConvertReport(str(source), str(target), layout, "retrieval", "folder", rows_read=len(rows))
    dropped = triplets.Dropped()
    if layout == "triplets":
        grouped = triplets.group(rows, "positive", "negative")
        rows, dropped = grouped.rows, grouped.dropped
        report.notes.append(f"grouped {count(report.rows_read, 'triplet row')} into {count(len(rows), 'row')} "
                            f"by anchor.")
    collection = rows_to_retrieval(rows, with_ids=keep_ids, dropped=dropped)
    _refuse_losses(collection.dropped, allow_lossy, report, "a retrieval folder has no place for this field",
                   "pass --allow-lossy to drop it, or convert to reranking/flag, which keep every field")
    if not collection.queries:
        raise DataError("nothing to write: no query has a positive", path=source)
    write_beir(target, collection.corpus_records(), collection.query_records(), collection.judgments)
    _describe(collection, rows, report, keep_ids)
    return report


def _describe(collection: Collection, rows: list[Record], report: ConvertReport, keep_ids: bool) -> None:
    c = collection
    report.rows_written = len(c.queries)
    report.written = {"queries": len(c.queries), "documents": len(c.corpus), "judgments": len(c.judgments)}
    keys = {k for _, _, r in rows for k in r}
    ids = [k for k in ID_KEYS if k in keys and keep_ids][:1]
    report.mapping = {**{k: "query-id" for k in ids}, "query": "queries",
                      **{k: "corpus + qrels grade 1" for k in POSITIVE_KEYS if k in keys},
                      **{k: "corpus + qrels grade 0" for k in NEGATIVE_KEYS if k in keys}}
    report.skipped.update({k: n for k, n in (("no_positive", c.no_positive), ("empty_query", c.empty_queries)) if n})
    report.notes.append(f"corpus: every distinct passage of the rows, ids d1..d{len(c.corpus)} in first-seen "
                        f"order{'' if ids else '; queries numbered q<row>'}.")
    merged = [(c.merged_rows, "row", "merged into an earlier row's query with the same text"),
              (c.merged_passages, "passage", "written as an earlier document with the same text"),
              (len(c.both), "passage", "both positive and negative of a query, graded 1"),
              (c.empty_passages, "empty passage", "left out")]
    report.notes += [f"{count(n, what)} {why}." for n, what, why in merged if n]


def _from_retrieval(source: Path, report: ConvertReport, *, split: str | None, negatives: int, seed: int,
                    with_ids: bool) -> list[Record]:
    from embedlab.data.retrieval import load_retrieval
    from embedlab.data.retrieval_rows import retrieval_rows

    task = load_retrieval(source, split=split)
    built = retrieval_rows(task, negatives=negatives, seed=seed, with_ids=with_ids, source=source)
    report.rows_read = len(task.queries) + sum(task.skipped.values())
    report.skipped.update({k: v for k, v in {**task.skipped, "no_positive": built.no_positive}.items() if v})
    sampled = f", then {negatives} sampled at random (seed {seed}) from passages not judged for the query" \
        if negatives else ""
    report.notes.append(f"positives are the passages judged relevant (highest grade first); negatives the "
                        f"passages judged 0{sampled}; for hard negatives use `embedlab mine`.")
    if built.short_of_samples:
        report.notes.append(f"{count(built.short_of_samples, 'row')} got fewer than {negatives} sampled "
                            f"negatives (too few unjudged passages).")
    if built.without_negative:
        report.notes.append(f"{count(built.without_negative, 'row')} without a negative (evaluation skips "
                            f"such rows; training uses in-batch negatives).")
    if not with_ids and report.target_layout == "triplets":
        report.notes.append("query ids are not written: a triplet has no id field.")
    return built.rows


def _retrieval_mapping(layout: str, keep_ids: bool) -> dict[str, str]:
    if layout == "triplets":
        return {"queries text": "anchor", "qrels grade > 0": "positive", "qrels grade 0 + sampled": "negative"}
    positive, negative = TEXT_KEYS[layout]
    ids = {"query-id": "_id"} if keep_ids else {}
    return {**ids, "queries text": "query", "qrels grade > 0": positive, "qrels grade 0 + sampled": negative}


def _splits_listed(listing: Path) -> list[str]:
    """The split names a Hugging Face DatasetDict folder's dataset_dict.json lists."""
    hint = "a DatasetDict folder lists its splits there, as datasets' save_to_disk writes it"
    data = read_json(listing, what="dataset_dict.json", hint=hint)
    names = data.get("splits") if isinstance(data, dict) else None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise DataError("no list of 'splits'", path=listing, hint=hint)
    return names


def _split_note(source: Path, split: str | None) -> str | None:
    """Which split was read, when the source has several and none was asked for."""
    if split is not None or not source.is_dir():
        return None
    listing = source / "dataset_dict.json"
    names = _splits_listed(listing) if listing.exists() else list(find_split_files(source))
    if len(names) < 2:
        return None
    chosen = choose_split({name: [] for name in names}, None, source)
    return f"read split '{chosen}' of {', '.join(names)} (pass --split for another)."


def _read(source: Path, split: str | None) -> list[Record]:
    rows: list[Record] = []
    tables: dict[Path, bool] = {}
    ids = RowIds()
    for file, line, record in read_records(source, split=split):
        ids.check(record, file, line)
        if file not in tables:
            tables[file] = file.is_dir() or file.suffix in TABLE_SUFFIXES
        rows.append((file, line, _without_nulls(record) if tables[file] else record))
    if not rows:
        raise DataError("no rows", path=source)
    return rows


def _without_nulls(value: Any) -> Any:
    """A table cannot tell a missing field from a null one: read nulls of objects back as missing."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _layout(rows: list[Record]) -> str:
    first_file, first_line, first = rows[0]
    expected = triplets.is_triplet(first)
    for file, line, record in rows:
        if triplets.is_triplet(record) != expected:
            kind = "a triplet row (it has 'anchor')" if not expected else "not a triplet row (no 'anchor')"
            raise DataError(f"{kind}, but the row at {first_file.name}:{first_line} is "
                            f"{'one' if expected else 'not'}", path=file, line=line,
                            hint="convert one layout per file")
    if expected:
        return "triplets"
    styles = {"flag" if ("pos" in r or "neg" in r) else "reranking" for _, _, r in rows}
    return "+".join(s for s in ("reranking", "flag") if s in styles)


def _without_ids(rows: list[Record], report: ConvertReport) -> list[Record]:
    removed: dict[str, int] = {}
    out = []
    for file, line, record in rows:
        for key in ID_KEYS:
            if key in record:
                removed[key] = removed.get(key, 0) + 1
        out.append((file, line, {k: v for k, v in record.items() if k not in ID_KEYS}))
    if removed:
        report.notes.append("ids removed as asked: "
                            + ", ".join(f"{k} ({count(n, 'row')})" for k, n in removed.items()) + ".")
    return out


def _to_layout(rows: list[Record], layout: str, report: ConvertReport, allow_lossy: bool) -> list[Record]:
    target = report.target_layout
    if layout == "triplets" and target == "triplets":
        report.kept = _extras(rows, lambda k: k == triplets.ANCHOR or k == "positive" or triplets.is_negative_key(k))
        return rows
    if layout == "triplets":
        grouped = triplets.group(rows, *TEXT_KEYS[target])
        _refuse_losses(grouped.dropped, allow_lossy, report,
                       f"differs between triplet rows of the same anchor, so their one {target} row cannot hold it",
                       "pass --allow-lossy to drop it from such rows, or make the rows of an anchor agree")
        positive, negative = TEXT_KEYS[target]
        report.mapping.update({k: v for k, v in {triplets.ANCHOR: "query", "positive": positive,
                                                  "negative": negative}.items() if k != v})
        report.kept = _extras(grouped.rows, lambda k: k in ("query", positive, negative))
        report.notes.append(f"grouped {len(rows):,} triplet rows into {len(grouped.rows):,} rows by anchor: every "
                            f"text is kept, but not which negative was paired with which positive.")
        return grouped.rows
    if target == "triplets":
        expanded = triplets.expand(rows)
        _refuse_losses(expanded.dropped, allow_lossy, report, "a triplet has no place for this field",
                       "pass --allow-lossy to drop it, or convert to reranking/flag, which keep every field")
        renames = {"query": triplets.ANCHOR, "pos": "positive", "neg": "negative"}
        report.mapping.update({k: v for k, v in renames.items() if any(k in r for _, _, r in rows)})
        if expanded.no_positive:
            report.skipped["no_positive"] = report.skipped.get("no_positive", 0) + expanded.no_positive
        if expanded.pair_rows:
            pairs = sum(1 for _, _, r in expanded.rows if "negative" not in r)
            report.notes.append(f"{count(expanded.pair_rows, 'row')} without a negative written as "
                                f"{count(pairs, 'pair')} {{anchor, positive}}.")
        return expanded.rows
    return _renamed(rows, _RENAMES[target], report)


def _renamed(rows: list[Record], names: dict[str, str], report: ConvertReport) -> list[Record]:
    out = []
    for file, line, record in rows:
        for keys in (POSITIVE_KEYS, NEGATIVE_KEYS):
            if all(k in record for k in keys):
                raise DataError(f"both '{keys[0]}' and '{keys[1]}'", path=file, line=line, field=keys[1],
                                hint="keep one of them")
        row_texts(record, file, line)  # validates the texts
        for key in record:
            if key in names:
                report.mapping.setdefault(key, names[key])
        out.append((file, line, {names.get(k, k): v for k, v in record.items()}))
    report.kept = _extras(out, lambda k: k in _ROW_TEXT_KEYS)
    return out


def _extras(rows: list[Record], is_text: Callable[[str], bool]) -> list[str]:
    return list(dict.fromkeys(k for _, _, r in rows for k in r if not is_text(k)))


def _refuse_losses(dropped: triplets.Dropped, allow_lossy: bool, report: ConvertReport, why: str,
                   hint: str) -> None:
    if not dropped.rows:
        return
    if not allow_lossy:
        name = next(iter(dropped.rows))
        file, line = dropped.first[name]
        others = [k for k in dropped.rows if k != name]
        also = f"; also: {', '.join(others)}" if others else ""
        raise DataError(f"{why} ({count(dropped.rows[name], 'row')} with it{also})", path=file, line=line,
                        field=name, hint=hint)
    report.dropped = dict(dropped.rows)


def _check_pairs(rows: list[Record], container: str) -> None:
    """A table holds one schema: pairs and triplets mix only in JSONL."""
    if container == "jsonl":
        return
    pairs = [(file, line, r) for file, line, r in rows if not any(map(triplets.is_negative_key, r))]
    if pairs and len(pairs) < len(rows):
        file, line, record = pairs[0]
        raise DataError(f"no negative for '{str(record.get(triplets.ANCHOR))[:60]}', so it becomes "
                        f"{{anchor, positive}} pairs while other rows are triplets, and a "
                        f"{_CONTAINER_NAMES[container]} holds one schema", path=file, line=line, field="negative",
                        hint="write .jsonl (it can mix pairs and triplets), or give every row negatives "
                             "(`embedlab mine`)")
