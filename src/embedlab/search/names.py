"""The index vocabulary every command shares (`--index` of eval, mine and sweep), without numpy (for `--help`).

`exact` is embedlab's blockwise exact search (trec_eval's tie order); the others are indexes of `search.ann`:
`flat` (faiss' exhaustive index), `hnsw` and `ivf` (faiss), `usearch` (usearch's HNSW). The approximate ones may
miss documents the exact search finds: every command that uses one measures what it costs. And the fusions a
hybrid ranks with.
"""

from __future__ import annotations

from embedlab.errors import UnknownNameError

EXACT = "exact"
INDEXES = ("exact", "flat", "hnsw", "ivf", "usearch")
APPROXIMATE = ("hnsw", "ivf", "usearch")
# the optional module each index needs (a key of `errors.PROVIDERS`): checked before any work
INDEX_REQUIRES = {"flat": "faiss", "hnsw": "faiss", "ivf": "faiss", "usearch": "usearch.index"}
# rank fusion (`search.fusion`, as mteb's HybridSearch): reciprocal rank, distribution-based, relative score
FUSIONS = ("rrf", "dbsf", "rsf")
DEFAULT_RRF_K = 60  # the rank constant k of 1/(k + rank)
# the spellings of `eval --search` / `mine --search`, kept for one release
RENAMED = {"faiss": "flat", "faiss-ivf": "ivf", "faiss-hnsw": "hnsw"}


def index_name(name: str) -> str:
    """The index a name selects (an old `--search` spelling mapped to its `--index` one); unknown: one line."""
    name = RENAMED.get(name, name)
    if name not in INDEXES:
        raise UnknownNameError("index", name, INDEXES)
    return name
