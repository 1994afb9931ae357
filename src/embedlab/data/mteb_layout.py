"""Read a dataset in mteb 2.x's retrieval layout, as mteb's `RetrievalDatasetLoader` reads it.

A Hugging Face dataset with configs `corpus` (id, title, text), `queries` (id, text; `query` in some),
`default` (the qrels: query-id, corpus-id, score; `qrels` in some) and, for reranking, `top_ranked` (query-id,
corpus-ids: each query's candidates). The files of each config are the ones the dataset card's `configs:`
declares (what `datasets` reads), or else those `push_to_hub` writes: `<config>/<split>-*.parquet`, the default
config's under `data/`. Each config is read at the wanted split, or its only one (as mteb does).

Reranking: each judged query of `top_ranked` is a row: its candidates judged relevant (score >= 1) are the
positives, the others the negatives, both in `top_ranked` order; rows without a positive or a negative are
skipped and counted, as for rows in the C-MTEB layout, so both layouts of a task give the same scores. Documents
judged relevant but not among a query's candidates cannot be ranked by a reranker and are left out.
"""

from __future__ import annotations

from pathlib import Path

from embedlab.data.qrels import read_qrels
from embedlab.data.records import choose_split, find_split_files, id_field, read_records, task_name
from embedlab.data.retrieval import load_retrieval, read_texts
from embedlab.errors import DataError
from embedlab.tasks import RerankingTask, RetrievalTask
from embedlab.tasks.reranking import RerankRow

CONFIGS = {"corpus": ("corpus",), "queries": ("query", "queries"), "qrels": ("default", "qrels"),
           "top_ranked": ("top_ranked",)}  # what mteb reads -> the config names it reads it from, in order


def is_mteb_layout(folder: str | Path) -> bool:
    """A dataset folder with mteb's `corpus`, `queries` and qrels configs."""
    folder = Path(folder)
    if not folder.is_dir():
        return False
    configs = hub_configs(folder)
    return all(any(name in configs for name in names) for key, names in CONFIGS.items() if key != "top_ranked")


def load_mteb_layout(folder: str | Path, *, split: str | None = None, name: str | None = None,
                     ) -> RerankingTask | RetrievalTask:
    """The task a folder in mteb's layout holds: reranking when it has `top_ranked`, else retrieval."""
    folder = Path(folder)
    configs = hub_configs(folder)
    files = {key: _split_files(configs, names, split, folder)
             for key, names in CONFIGS.items() if any(n in configs for n in names)}
    name = name or task_name(folder)
    if "top_ranked" not in files:
        return load_retrieval(corpus=files["corpus"], queries=files["queries"], qrels=files["qrels"], name=name)
    return _reranking(files, name, folder)


def hub_configs(folder: Path) -> dict[str, dict[str, list[Path]]]:
    """config -> split -> data files: as the dataset card declares them, or as `push_to_hub` lays them out."""
    declared = card_configs(folder)
    if declared:
        return {config: {split: sorted(p for pattern in patterns for p in folder.glob(pattern) if p.is_file())
                         for split, patterns in splits.items()}
                for config, splits in declared.items()}
    found = {}
    for config in (n for names in CONFIGS.values() for n in names):
        where = folder / ("data" if config == "default" else config)
        groups = find_split_files(where) if where.is_dir() else {}
        if groups:
            found[config] = groups
    return found


def card_configs(folder: Path) -> dict[str, dict[str, list[str]]]:
    """The `configs:` of a dataset card's YAML header: config -> split -> path patterns ({} without a card)."""
    card = folder / "README.md"
    text = card.read_text(encoding="utf-8", errors="replace") if card.is_file() else ""
    if not text.startswith("---"):
        return {}
    configs: dict[str, dict[str, list[str]]] = {}
    config, split, inside = None, "train", False
    for line in text[3:].split("\n---", 1)[0].splitlines():
        if line.strip() and not line.startswith((" ", "-")):  # a top-level key ends the block
            inside = line.startswith("configs:")
            continue
        item = line.strip().removeprefix("- ").strip()
        if not inside or not item:
            continue
        key, sep, value = item.partition(": ") if ": " in item else item.partition(":")
        value = value.strip().strip("'\"")
        if sep and key == "config_name":
            config, split = value, "train"
            configs[config] = {}
        elif sep and key == "split":
            split = value
        elif config is not None and ((sep and key in ("path", "data_files") and value) or not sep):
            configs[config].setdefault(split, []).append(value if sep else item.strip("'\""))
    return configs


def _split_files(configs: dict[str, dict[str, list[Path]]], names: tuple[str, ...], split: str | None,
                 folder: Path) -> list[Path]:
    """The config's files at `split`, or at its only split (as mteb reads it); without a split asked for, at the
    evaluation split (`records.choose_split`)."""
    config = next(n for n in names if n in configs)
    splits = {s: files for s, files in configs[config].items() if files}
    if split in splits or len(splits) == 1:
        return splits[split] if split in splits else next(iter(splits.values()))
    if split is None and splits:
        return splits[choose_split(splits, None, folder)]
    raise DataError(f"config '{config}' has no split '{split}' (found: {', '.join(sorted(splits)) or 'no files'})",
                    path=folder, hint="pass --split with one of those")


def _reranking(files: dict[str, list[Path]], name: str, folder: Path) -> RerankingTask:
    corpus = read_texts(files["corpus"], with_title=True)
    queries = read_texts(files["queries"], with_title=False)
    grades = read_qrels(files["qrels"]).grades
    rows: list[RerankRow] = []
    skipped = {"no_positive": 0, "no_negative": 0}
    for file, line, record in (item for path in files["top_ranked"] for item in read_records(path)):
        qid = id_field(record, ("query-id",), path=file, line=line)
        if qid not in grades:  # mteb evaluates judged queries only
            continue
        candidates = record.get("corpus-ids")
        if not isinstance(candidates, list) or not all(isinstance(d, (str, int)) for d in candidates):
            raise DataError("expected a list of document ids", path=file, line=line, field="corpus-ids")
        candidates = [str(d) for d in candidates]
        missing = qid if qid not in queries else next((d for d in candidates if d not in corpus), None)
        if missing is not None:
            raise DataError(f"'{missing}' is not in the {'queries' if missing == qid else 'corpus'}", path=file,
                            line=line, hint="the dataset is incomplete: download it again")
        judged = grades[qid]
        positives = tuple(corpus[d] for d in candidates if judged.get(d, 0) > 0)
        negatives = tuple(corpus[d] for d in candidates if judged.get(d, 0) <= 0)
        if not positives:
            skipped["no_positive"] += 1
        elif not negatives:
            skipped["no_negative"] += 1
        else:
            rows.append(RerankRow(qid, queries[qid], positives, negatives))
    if not rows:
        raise DataError("no usable rows (each judged query needs a relevant and a non-relevant candidate)",
                        path=folder)
    return RerankingTask(name, rows, str(folder), {k: v for k, v in skipped.items() if v})
