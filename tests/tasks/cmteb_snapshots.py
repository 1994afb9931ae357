"""Hand-made local copies of two C-MTEB tasks in both published layouts (the hub is not reachable in tests).

T2Reranking and T2Retrieval, tiny, with the same content in C-MTEB's original layout (reranking rows; retrieval
corpus and queries in `data/`, qrels in a `-qrels` dataset) and in mteb 2.x's re-upload (configs `corpus`,
`queries`, `default` = qrels, `top_ranked`), laid out as the hub and `hf download` leave them: hub-cache snapshots
named after their commit, a `--local-dir` copy with its `.cache/huggingface` record, a plain folder.

    python -m tests.tasks.cmteb_snapshots DIR [mteb|C-MTEB|both]    # write them under DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from embedlab.tasks.cmteb import TASKS

RERANK_ROWS = [
    ("绿茶怎么泡", ["绿茶用八十度左右的水冲泡两分钟"], ["自行车链条每个月上一次油", "仙人掌冬天少浇水", "红茶要用沸水冲泡"]),
    ("自行车爆胎怎么办", ["内胎破了可以用补胎片补好", "洞太大就换一条新内胎"], ["绿茶用八十度左右的水冲泡两分钟", "跑步前要热身"]),
    ("仙人掌多久浇一次水", ["仙人掌冬天少浇水，夏天一周一次"], ["红茶要用沸水冲泡", "内胎破了可以用补胎片补好"]),
    ("跑步膝盖疼", ["跑步前要热身，膝盖疼就先休息"], ["仙人掌冬天少浇水", "咖啡豆要烘焙后研磨"]),
    ("咖啡怎么做", ["咖啡豆要烘焙后研磨，再用热水萃取"], ["绿茶用八十度左右的水冲泡两分钟", "自行车链条每个月上一次油"]),
    ("没有正例的问题", [], ["跑步前要热身"]),  # skipped by both layouts: no positive
]
CORPUS = {"d1": "绿茶用八十度左右的水冲泡两分钟", "d2": "内胎破了可以用补胎片补好", "d3": "仙人掌冬天少浇水，夏天一周一次",
          "d4": "跑步前要热身，膝盖疼就先休息", "d5": "咖啡豆要烘焙后研磨，再用热水萃取", "d6": "红茶要用沸水冲泡",
          "d7": "自行车链条每个月上一次油", "d8": "北京的冬天很冷"}
QUERIES = {"q1": "绿茶怎么泡", "q2": "自行车爆胎怎么办", "q3": "仙人掌多久浇一次水", "q4": "跑步膝盖疼",
           "q5": "咖啡怎么做", "q6": "没人判断的问题"}
QRELS = [("q1", "d1", 1), ("q2", "d2", 1), ("q2", "d7", 1), ("q3", "d3", 1), ("q4", "d4", 1), ("q5", "d5", 1)]


def _write(path: Path, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def write_cmteb(root: Path) -> Path:
    """C-MTEB's layout: T2Reranking as a plain folder, T2Retrieval as a hub-cache snapshot, its qrels under C-MTEB/."""
    root = Path(root)
    _write(root / "T2Reranking" / "data" / "dev-00000-of-00001.parquet",
           [{"query": q, "positive": p, "negative": n} for q, p, n in RERANK_ROWS])
    snapshot = root / "datasets--C-MTEB--T2Retrieval" / "snapshots" / TASKS["T2Retrieval"].cmteb_revision
    _write(snapshot / "data" / "corpus-00000-of-00001.parquet", [{"id": k, "text": v} for k, v in CORPUS.items()])
    _write(snapshot / "data" / "queries-00000-of-00001.parquet", [{"id": k, "text": v} for k, v in QUERIES.items()])
    _write(root / "C-MTEB" / "T2Retrieval-qrels" / "data" / "dev-00000-of-00001.parquet",
           [{"qid": q, "pid": d, "score": s} for q, d, s in QRELS])
    return root


def write_mteb(root: Path) -> Path:
    """mteb 2.x's layout: T2Reranking as a hub-cache snapshot with a dataset card, T2Retrieval as an
    `hf download --local-dir` copy (no card: `push_to_hub`'s folders)."""
    root = Path(root)
    snapshot = root / "datasets--mteb--T2Reranking" / "snapshots" / TASKS["T2Reranking"].mteb_revision
    ids: dict[str, str] = {}
    top_ranked, qrels = [], []
    for i, (query, positives, negatives) in enumerate(RERANK_ROWS):
        candidates = [ids.setdefault(text, f"doc{len(ids)}") for text in positives + negatives]
        top_ranked.append({"query-id": f"dev-{i}", "corpus-ids": candidates})
        qrels += [{"query-id": f"dev-{i}", "corpus-id": d, "score": int(j < len(positives))}
                  for j, d in enumerate(candidates)]
    _write_configs(snapshot, [{"id": d, "title": "", "text": t} for t, d in ids.items()],
                   [{"id": f"dev-{i}", "text": row[0]} for i, row in enumerate(RERANK_ROWS)], qrels, top_ranked)
    (snapshot / "README.md").write_text(_CARD, encoding="utf-8")
    local = root / "mteb" / "T2Retrieval"
    _write_configs(local, [{"_id": k, "title": "", "text": v} for k, v in CORPUS.items()],
                   [{"_id": k, "text": v} for k, v in QUERIES.items()],
                   [{"query-id": q, "corpus-id": d, "score": s} for q, d, s in QRELS])
    record = local / ".cache" / "huggingface" / "download" / "corpus" / "dev-00000-of-00001.parquet.metadata"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(f"{TASKS['T2Retrieval'].mteb_revision}\n\"etag\"\n1700000000.0\n", encoding="utf-8")
    return root


def _write_configs(folder: Path, corpus, queries, qrels, top_ranked=None) -> None:
    _write(folder / "corpus" / "dev-00000-of-00001.parquet", corpus)
    _write(folder / "queries" / "dev-00000-of-00001.parquet", queries)
    _write(folder / "data" / "dev-00000-of-00001.parquet", qrels)
    if top_ranked is not None:
        _write(folder / "top_ranked" / "dev-00000-of-00001.parquet", top_ranked)


_CARD = """---
dataset_info:
- config_name: corpus
  features:
  - name: id
    dtype: string
configs:
- config_name: corpus
  data_files:
  - split: dev
    path: corpus/dev-*
- config_name: default
  data_files:
  - split: dev
    path: data/dev-*
- config_name: queries
  data_files:
  - split: dev
    path:
    - queries/dev-00000-of-00001.parquet
- config_name: top_ranked
  data_files:
  - split: dev
    path: top_ranked/dev-*
tags:
- mteb
---
# T2Reranking (hand-made for embedlab's tests)
"""


if __name__ == "__main__":
    target, which = Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else "both")
    if which in ("C-MTEB", "both"):
        write_cmteb(target)
    if which in ("mteb", "both"):
        write_mteb(target)
    print(f"wrote hand-made T2Reranking / T2Retrieval copies ({which}) under {target}")
