"""`mine()`: hard-negative mining from files to files, the counterpart of `evaluate()` (what `embedlab mine` runs).

The order keeps a failed or refused run cheap and clean: the output paths are checked first, then the
data is read, the models loaded, and each paid model's cost estimated (and refused above `max_cost`)
before any text is sent; the output is written atomically, then the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from embedlab.data.output import check_output, write_json
from embedlab.embedding.store import EmbeddingStore
from embedlab.mining.config import MiningConfig
from embedlab.mining.inputs import MiningInput, MiningRow, read_corpus, read_rows, texts_to_embed
from embedlab.mining.miner import OUTPUT_KEYS, mine_rows
from embedlab.mining.report import MiningReport
from embedlab.models.base import ModelOptions, as_model
from embedlab.models.registry import load_model
from embedlab.run.context import RunContext
from embedlab.run.estimate import estimate_texts
from embedlab.run.evaluation import check_options_read
from embedlab.run.options import RunOptions

PathLike = str | Path


def default_report_path(out: PathLike) -> Path:
    """Where the report goes when no path is given: the output with `.report.json`."""
    return Path(out).with_suffix(".report.json")


def mine(data: PathLike | MiningInput, model: PathLike | Any, out: PathLike, *,
         config: MiningConfig | None = None, options: ModelOptions | None = None, run: RunOptions | None = None,
         corpus: PathLike | Sequence[str] | None = None, check_model: PathLike | Any | None = None,
         output_format: str = "flag", with_scores: bool = False, overwrite: bool = False,
         report_path: PathLike | None = None) -> MiningReport:
    """Mine hard negatives for the rows of `data` with `model`; write the rows to `out` (JSONL) and the
    report to `report_path` (default: `out` with `.report.json`). Returns the report.

    data: a reranking / training file (JSONL, parquet, dataset folder) or a retrieval folder, or rows
    already read (`read_rows`). model, check_model: names (`"BAAI/bge-small-zh-v1.5"`, `"openai:<model>"`)
    loaded with `options` and closed afterwards, or Model objects (left open). corpus: the candidate
    passages: a corpus file or retrieval folder, or distinct texts (used as they are); default: every
    passage of `data` (a retrieval folder's corpus). output_format: "flag" ({query, pos, neg}) or "reranking"
    ({query, positive, negative}). Neither output may be an input; an existing one is refused unless
    `overwrite`. `run`: the run context's settings (`RunOptions`: cache, split of `data`, max_cost, price_per_mtok,
    progress, announce, engine), as `evaluate` takes them: paid models are estimated before any request, each line
    sent to `announce`, and refused above `max_cost`; with `engine`, the mining model's documents (candidates,
    positives) are encoded on a Ray cluster first, in one run; queries and the second model stay in this process.
    """
    config, run, options = config or MiningConfig(), run or RunOptions(), options or ModelOptions()
    config.check()
    if output_format not in OUTPUT_KEYS:
        raise ValueError(f"output_format is one of {sorted(OUTPUT_KEYS)}, not {output_format!r}")
    report_path = Path(report_path) if report_path is not None else default_report_path(out)
    _check_outputs(Path(out), report_path, data, corpus, overwrite, run.kept_paths())
    specs = [model] + ([check_model] if check_model is not None else [])
    check_options_read(options, [str(s) if isinstance(s, Path) else s for s in specs])
    with RunContext(run, batch_size=options.batch_size) as ctx:
        source = data if isinstance(data, MiningInput) else read_rows(data, split=run.split)
        for reason, count in source.skipped.items():
            ctx.say(f"note: skipped {count:,} rows: {reason.replace('_', ' ')} (not in the output)")
        candidates, corpus_name = _candidates(source, corpus)
        with ExitStack() as opened:
            stores = [_store(spec, options, ctx, opened, engine=not i) for i, spec in enumerate(specs)]
            ctx.check_costs(_estimates(stores, source.rows, candidates, config, run.price_per_mtok))
            if run.engine is not None:
                stores[0].prepare([texts_to_embed(source.rows, candidates, config)["document"]])
            report = mine_rows(source.rows, candidates, stores[0], out, config=config,
                               checker=stores[1] if len(stores) > 1 else None, output_format=output_format,
                               with_scores=with_scores, source=source.source, corpus_name=corpus_name,
                               skipped=source.skipped, progress=ctx.say if run.progress else None)
    write_json(report_path, report.as_dict())
    return report


def _check_outputs(out: Path, report_path: Path, data: PathLike | MiningInput,
                   corpus: PathLike | Sequence[str] | None, overwrite: bool, kept: list[Path]) -> None:
    """Before any work: neither output is an input (the data, the corpus, the cache, the vector folder), nor the
    other output, nor exists unless `overwrite`."""
    inputs = [data.source] if isinstance(data, MiningInput) else [data]
    inputs += [corpus] if isinstance(corpus, (str, Path)) else []
    inputs = [Path(p) for p in inputs if p] + kept
    check_output(out, inputs=inputs, overwrite=overwrite)
    check_output(report_path, inputs=[*inputs, out], overwrite=overwrite)


def _candidates(source: MiningInput, corpus: PathLike | Sequence[str] | None) -> tuple[list[str], str]:
    """The candidate passages and how the report names them."""
    if corpus is None:
        return source.candidates(), f"{source.source or 'the rows'} (all its passages)"
    if isinstance(corpus, (str, Path)):
        return read_corpus(corpus), str(corpus)
    return corpus if isinstance(corpus, list) else list(corpus), "the given passages"


def _store(spec: PathLike | Any, options: ModelOptions, ctx: RunContext, opened: ExitStack, *, engine: bool
           ) -> EmbeddingStore:
    """A store on the model `spec` names (loaded here, closed with `opened`) or is; on the run's engine when
    `engine` (the mining model), else in this process (the second model)."""
    if isinstance(spec, (str, Path)):
        model = load_model(str(spec), options)
        opened.callback(model.close)
    else:
        model = as_model(spec)
    return ctx.vectors(model) if engine else ctx.plain_vectors(model)


def _estimates(stores: list[EmbeddingStore], rows: list[MiningRow], candidates: list[str], config: MiningConfig,
               price_per_mtok: float | None) -> list[dict]:
    """What each paid model will embed and cost; the second model's figures are an upper bound (it embeds only
    the candidates it checks)."""
    estimates = []
    for second, store in enumerate(stores):
        if store.encoder.paid:
            texts = texts_to_embed(rows, candidates, config, second_model=bool(second))
            estimates.append({**estimate_texts(store.encoder, texts, store.cache, price_per_mtok=price_per_mtok),
                              "at_most": bool(second)})
    return estimates
