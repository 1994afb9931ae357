"""Hard-negative mining: time and memory of `embedlab.mining.mine`.

1. Real data (../shared/data), bundled MiniLM, FlagEmbedding-like settings (top 7 of ranks 0-100,
   relative margin 0.05): embedlab vs sentence-transformers' `mine_hard_negatives` (the reference),
   measured in the same run, with the share of rows given identical negatives.
2. Synthetic corpora (200k passages by default; `--passages 1000000` for the 1M claim) with a
   vectorised synthetic encoder, so the mining machinery is measured, not a model: exact blocked search
   over a memory map vs faiss `IndexFlatIP`.
3. Row scaling (`--rows 50000 200000`): as many rows as passages, each passage the positive of one row,
   mined against their union (the default of `embedlab mine train.jsonl`): heap and texts embedded.

Memory is the peak of the process's anonymous RSS (heap: what the process really holds) above its
level before the call, sampled every 10 ms; file-backed pages of the memory map are reported apart
(page cache, reclaimable by the OS).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

import numpy as np
from _env import machine, require_data

HERE = Path(__file__).resolve().parent


def _status() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) * 1024
    return fields


class Peak:
    """Peak anonymous and file-backed RSS above the level at entry."""

    def __enter__(self):
        self.start = _status()
        self.peak = dict(self.start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self.t0 = time.perf_counter()
        return self

    def _sample(self):
        while not self._stop.wait(0.01):
            for key, value in _status().items():
                self.peak[key] = max(self.peak[key], value)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self._stop.set()
        self._thread.join()
        self.anon = self.peak["RssAnon"] - self.start["RssAnon"]
        self.file = self.peak["RssFile"] - self.start["RssFile"]


def real_data(data: Path, out: Path) -> list[dict]:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.util import mine_hard_negatives

    from embedlab.demo import default_model
    from embedlab.mining import MiningConfig, mine, read_rows
    from embedlab.models.sentence_transformers import SentenceTransformerEncoder
    from embedlab.run.options import RunOptions

    model = SentenceTransformer(default_model(), device="cpu")
    sets = {"xquad_r_zh reranking": data / "xquad_r_zh" / "reranking" / "test.jsonl",
            "xquad_r_zh sentence retrieval": data / "xquad_r_zh" / "retrieval_sentence",
            "cranfield_en retrieval": data / "cranfield_en" / "retrieval"}
    rows_out = []
    for name, path in sets.items():
        source = read_rows(path)
        corpus = source.candidates()
        config = MiningConfig(range_max=100, num_negatives=7, relative_margin=0.05)
        encoder = SentenceTransformerEncoder.from_model(model)
        with Peak() as ours:
            report = mine(source, encoder, out / "mined.jsonl", corpus=corpus, config=config,
                          overwrite=True, run=RunOptions(cache=False))
        pairs = [(r.query, p) for r in source.rows for p in r.positives]
        with Peak() as theirs:
            reference = mine_hard_negatives(
                Dataset.from_dict({"anchor": [q for q, _ in pairs], "positive": [p for _, p in pairs]}),
                model, corpus=corpus, range_max=100, num_negatives=7, relative_margin=0.05,
                sampling_strategy="top", output_format="n-tuple", use_faiss=False, verbose=False,
                batch_size=32)
        single = {r.query for r in source.rows if len(r.positives) == 1}
        expected = {r["anchor"]: [r[f"negative_{i}"] for i in range(1, 8)] for r in reference
                    if r["anchor"] in single}
        mined = {json.loads(line)["query"]: json.loads(line)["neg"]
                 for line in (out / "mined.jsonl").read_text(encoding="utf-8").splitlines()}
        same = sum(mined.get(q) == negs for q, negs in expected.items())
        row = {"set": name, "rows": len(source.rows), "corpus": len(corpus),
               "embedlab_s": round(ours.seconds, 2), "st_s": round(theirs.seconds, 2),
               "ratio": round(ours.seconds / theirs.seconds, 3),
               "embedlab_anon_mb": round(ours.anon / 1e6, 1), "st_anon_mb": round(theirs.anon / 1e6, 1),
               "identical_rows": same, "compared_rows": len(expected),
               "dropped_relative_margin": report.dropped["relative_margin"],
               "positive_rank": report.positive_rank,
               "texts_encoded": report.embedding[encoder.name]["texts_encoded"]}
        print(json.dumps(row, ensure_ascii=False))
        rows_out.append(row)
    return rows_out


class SyntheticEncoder:
    """Deterministic unit vectors from the number in the text, vectorised per batch; a query "q<i> ..."
    lands near passage "p<i> ..." (its positive), with noise."""

    name = "synthetic"

    def __init__(self, dim: int = 384) -> None:
        rng = np.random.default_rng(0)
        self.freqs = rng.uniform(0.001, 1.0, dim)
        self.phases = rng.uniform(0, 2 * np.pi, dim)
        self.dimension = dim

    def _base(self, ids: np.ndarray, salt: float = 0.0) -> np.ndarray:
        v = np.sin(np.outer(ids * 12.9898 + salt, self.freqs) + self.phases)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    def encode(self, texts, kind="document"):
        ids = np.array([int(t.split(" ", 1)[0][1:]) for t in texts], dtype=np.float64)
        if kind == "document":
            return self._base(ids)
        return self._base(ids) + 0.8 * self._base(ids, salt=0.5)


def synthetic(passages: int, queries: int, out: Path, search: str) -> dict:
    from embedlab.mining import MiningConfig, MiningInput, MiningRow, mine
    from embedlab.models import ModelOptions
    from embedlab.run.options import RunOptions

    filler = "lorem ipsum dolor sit amet consectetur " * 2
    corpus = [f"p{i} {filler}" for i in range(passages)]
    rows = [MiningRow(str(i), f"q{i} a question", [corpus[i]], [], {}) for i in range(queries)]
    with Peak() as peak:
        report = mine(MiningInput(rows, {}, {}), SyntheticEncoder(), out / f"synthetic-{search}.jsonl",
                      corpus=corpus, options=ModelOptions(batch_size=4096), overwrite=True,
                      config=MiningConfig(range_max=100, num_negatives=7, relative_margin=0.05, index=search),
                      run=RunOptions(cache=False))
    row = {"passages": passages, "queries": queries, "search": search, "seconds": round(peak.seconds, 1),
           "embed_s": report.seconds["embed_corpus"], "search_s": report.seconds["search"],
           "anon_mb": round(peak.anon / 1e6, 1), "file_mb": round(peak.file / 1e6, 1),
           "vectors_mb": round(passages * 384 * 4 / 1e6, 1), "negatives": report.negatives_written}
    print(json.dumps(row))
    return row


class Counting:
    """Counts the texts an encoder is asked to embed, by kind."""

    def __init__(self, encoder) -> None:
        self.encoder, self.name, self.dimension = encoder, encoder.name, encoder.dimension
        self.texts = {"query": 0, "document": 0}

    def encode(self, texts, kind="document"):
        self.texts[kind] += len(texts)
        return self.encoder.encode(texts, kind)


def row_scale(n: int, out: Path) -> dict:
    """n rows, each the positive of one of n passages, mined against their union (what `embedlab mine
    train.jsonl` does): memory must not grow with the rows, and no text is embedded twice."""
    from embedlab.mining import MiningConfig, MiningInput, MiningRow, mine
    from embedlab.models import ModelOptions
    from embedlab.run.options import RunOptions

    filler = "lorem ipsum dolor sit amet consectetur " * 2
    corpus = [f"p{i} {filler}" for i in range(n)]
    rows = [MiningRow(str(i), f"q{i} a question", [corpus[i]], [], {}) for i in range(n)]
    encoder = Counting(SyntheticEncoder())
    with Peak() as peak:
        report = mine(MiningInput(rows, {}, {}), encoder, out / "rows-scale.jsonl", corpus=corpus,
                      options=ModelOptions(batch_size=4096), overwrite=True,
                      config=MiningConfig(range_max=100, num_negatives=7, relative_margin=0.05),
                      run=RunOptions(cache=False))
    row = {"rows": n, "passages": n, "seconds": round(peak.seconds, 1), "search_s": report.seconds["search"],
           "anon_mb": round(peak.anon / 1e6, 1), "file_mb": round(peak.file / 1e6, 1),
           "documents_embedded": encoder.texts["document"], "queries_embedded": encoder.texts["query"],
           "positive_rank_1": report.positive_rank["1"], "negatives": report.negatives_written}
    print(json.dumps(row))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, nargs="*", default=[200_000])
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--rows", type=int, nargs="*", default=[50_000, 200_000],
                        help="row-scaling runs: N rows mined against the union of their N positives")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-faiss", action="store_true")
    args = parser.parse_args()
    out = HERE / "out" / "mining"
    out.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine("torch", "sentence-transformers", "faiss-cpu")}
    print(results["machine"])
    if not args.skip_real:
        results["real"] = real_data(require_data(), out)
    results["synthetic"] = []
    for n in args.passages:
        for search in ("exact",) if args.skip_faiss else ("exact", "flat"):
            results["synthetic"].append(synthetic(n, args.queries, out, search))
    results["rows"] = [row_scale(n, out) for n in args.rows]
    target = HERE / "results" / "mining_speed.json"
    previous = json.loads(target.read_text()) if target.exists() else {}
    previous.update({k: v for k, v in results.items() if v})
    target.write_text(json.dumps(previous, indent=1) + "\n")


if __name__ == "__main__":
    main()
