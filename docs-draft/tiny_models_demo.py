"""The output shown in docs-draft/sparse-and-multivector.md: the tiny offline models of each kind (tests/tiny_kinds.py)
on the bundled demo data, through the new scorers and `evaluate_task` (what `embedlab eval` will run once wired).
Run from the worktree root: PYTHONPATH=src:. HF_HUB_OFFLINE=1 python docs-draft/tiny_models_demo.py"""

from __future__ import annotations

import tempfile
from pathlib import Path

from embedlab import demo
from embedlab.data import load_reranking, load_retrieval
from embedlab.embedding.outputs import M3Store, MultiVectorStore, SparseStore
from embedlab.evaluation import evaluate_task
from embedlab.models.base import ModelOptions
from embedlab.models.registry import load_model
from embedlab.scorers.m3 import M3Scorer
from embedlab.scorers.multivector import MultiVectorScorer
from embedlab.scorers.sparse import SparseScorer
from tests.tiny_kinds import make_tiny_colbert, make_tiny_m3, make_tiny_splade

folder = Path(tempfile.mkdtemp())
splade, colbert, m3 = make_tiny_splade(folder), make_tiny_colbert(folder), make_tiny_m3(folder)
rows, retrieval = load_reranking(demo.RERANKING), load_retrieval(demo.RETRIEVAL)
options = ModelOptions(device="cpu")
runs = {
    "sparse:tiny-splade": SparseScorer(SparseStore(load_model(f"sparse:{splade}", options), progress=False)),
    "colbert:tiny-colbert": MultiVectorScorer(MultiVectorStore(load_model(f"colbert:{colbert}", options),
                                                               progress=False)),
    "m3:tiny-m3#sparse": SparseScorer(SparseStore(load_model(f"m3:{m3}#sparse", options), progress=False)),
    "m3:tiny-m3#colbert": MultiVectorScorer(MultiVectorStore(load_model(f"m3:{m3}#colbert", options), progress=False)),
    "m3:tiny-m3#dense+sparse+colbert": M3Scorer(M3Store(load_model(f"m3:{m3}", options), progress=False)),
}
print("| model | reranking v2.ndcg@10 | retrieval ndcg@10 | bytes / document | forward passes | ms / query |")
print("|---|---|---|---|---|---|")
for name, scorer in runs.items():
    ranked, retrieved = evaluate_task(rows, scorer), evaluate_task(retrieval, scorer)
    stats = scorer.stats()
    storage = stats["document_storage"]
    size = " + ".join(f"{part['bytes_per_text']:,.0f} ({kind})" for kind, part in storage.items())
    cost = (stats.get("sparse_index") or stats.get("multi_vector_search") or {}).get(retrieval.name, {})
    print(f"| {name} | {ranked.scores['v2.ndcg@10']:.4f} | {retrieved.scores['ndcg@10']:.4f} | {size} | "
          f"{stats['forward_passes']} | {cost.get('ms_per_query', '')} |")
