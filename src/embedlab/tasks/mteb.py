"""Hand an embedlab task to mteb 2.x, to check our numbers against the reference on the same data.

Reranking rows become retrieval-shaped tasks exactly as mteb's own legacy conversion builds them
(query ids `test_query<i>`, candidate ids `apositive_<qid>_<i:05d>` / `negative_<qid>_<i:05d>`,
`top_ranked` = the row's candidates), so `v2.*` scores must equal mteb's.
"""

from __future__ import annotations

from typing import Any

from embedlab.errors import require
from embedlab.tasks.reranking import RerankingTask
from embedlab.tasks.retrieval import RetrievalTask

_METADATA = {
    "description": "A local dataset evaluated through embedlab's mteb adapter.",
    "reference": "https://github.com/embeddings-benchmark/mteb",
    "dataset": {"path": "local", "revision": "local"},
    "category": "t2t",
    "eval_splits": ["test"],
    "eval_langs": ["eng-Latn"],
    "date": ("2020-01-01", "2020-01-01"),
    "dialect": [],
    "domains": [],
    "task_subtypes": [],
    "license": "not specified",
    "annotations_creators": "derived",
    "modalities": ["text"],
    "sample_creation": "found",
    "bibtex_citation": "",
}


def to_mteb(task: RerankingTask | RetrievalTask, name: str | None = None, language: str = "eng-Latn",
            top_ranked: dict[str, list[str]] | None = None) -> Any:
    """An mteb `AbsTaskRetrieval` instance holding the task's data (needs `pip install mteb`).

    `language` becomes the task's `eval_langs` (ISO 639-3 + script, e.g. "zho-Hans"): models that read it
    (mteb's BM25 picks its tokenizer, stopwords and stemmer by it) treat the data as that language.
    `top_ranked` (retrieval): each query's first-stage documents, for a cross-encoder to rerank (mteb scores
    exactly these, as for a reranking task)."""
    require("mteb", "checking results against mteb")
    from datasets import Dataset
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData
    from mteb.abstasks.task_metadata import TaskMetadata

    corpus, queries, qrels, top_ranked = _retrieval_shape(task) if top_ranked is None else \
        (*_retrieval_shape(task)[:3], top_ranked)
    is_reranking = isinstance(task, RerankingTask)
    metadata = TaskMetadata(
        name=name or f"embedlab_{task.type}_{task.fingerprint()[7:15]}",
        type="Reranking" if is_reranking else "Retrieval",
        main_score="map_at_1000" if is_reranking else "ndcg_at_10",
        **{**_METADATA, "eval_langs": [language]},
    )

    class LocalTask(AbsTaskRetrieval):
        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            self.dataset = {"default": {"test": RetrievalSplitData(
                corpus=Dataset.from_list(corpus), queries=Dataset.from_list(queries),
                relevant_docs=qrels, top_ranked=top_ranked)}}
            self.data_loaded = True

    LocalTask.metadata = metadata
    return LocalTask()


def _retrieval_shape(task):
    if isinstance(task, RetrievalTask):
        corpus = [{"id": d, "title": "", "text": t} for d, t in task.corpus.items()]
        queries = [{"id": q, "text": t} for q, t in task.queries.items()]
        return corpus, queries, {q: dict(d) for q, d in task.qrels.items()}, None
    corpus, queries, qrels, top_ranked = [], [], {}, {}
    for i, row in enumerate(task.rows):
        qid = f"test_query{i}"
        queries.append({"id": qid, "text": row.query})
        ids = [f"apositive_{qid}_{j:05d}" for j in range(len(row.positives))] + \
              [f"negative_{qid}_{j:05d}" for j in range(len(row.negatives))]
        corpus += [{"id": d, "title": "", "text": t} for d, t in zip(ids, row.candidates)]
        qrels[qid] = {d: int(d.startswith("apositive")) for d in ids}
        top_ranked[qid] = ids
    return corpus, queries, qrels, top_ranked


def mteb_search(model: Any, task: RerankingTask | RetrievalTask, *, language: str = "eng-Latn",
                top_k: int = 1000) -> dict[str, dict[str, float]]:
    """What an mteb search model (mteb's BM25, say) returns on the task, called as mteb's retrieval evaluator
    calls it: `{query id: {document id: score}}`, in the ids `to_mteb` gives (`test_query<i>`, ... for
    reranking rows; the task's own for retrieval)."""
    mteb_task = to_mteb(task, language=language)
    mteb_task.load_data()
    split = mteb_task.dataset["default"]["test"]
    where = {"task_metadata": mteb_task.metadata, "hf_split": "test", "hf_subset": "default", "encode_kwargs": {}}
    model.index(corpus=split["corpus"], **where)
    return model.search(split["queries"], top_k=top_k, top_ranked=split["top_ranked"], **where)


def cmteb_rows() -> list[tuple[str, str, str, str, str, str, str]]:
    """The C-MTEB reranking and retrieval tasks of the installed mteb, as the mteb columns of
    `tasks.cmteb_table.ROWS` (name, type, split, main score, language, dataset, revision): the monolingual Chinese
    text tasks of type Reranking or Retrieval, superseded ones included, and those of its C-MTEB benchmark."""
    mteb = require("mteb", "reading mteb's task metadata")
    found = mteb.get_tasks(task_types=["Reranking", "Retrieval"], languages=["cmn", "zho"],
                           exclusive_language_filter=True, exclude_superseded=False)
    benchmark = [t for t in mteb.get_benchmark("MTEB(cmn, v1)").tasks if t.metadata.type in ("Reranking", "Retrieval")]
    rows = {}
    for task in [*found, *benchmark]:
        meta = task.metadata
        if meta.is_multilingual or list(meta.modalities) != ["text"]:
            continue
        (split,) = meta.eval_splits
        (language,) = meta.eval_langs
        rows[meta.name] = (meta.name, meta.type.lower(), split, meta.main_score, language,
                           meta.dataset["path"], meta.dataset["revision"])
    return list(rows.values())
