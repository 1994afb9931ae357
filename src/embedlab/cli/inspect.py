"""`embedlab inspect`: data-quality diagnostics of reranking / training rows or a retrieval folder."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from embedlab.cli.options import QUIET, options, quiet_libraries
from embedlab.cli.renamed import note_renamed


@click.command("inspect")
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option("--against", "other", type=click.Path(exists=True, path_type=Path), default=None,
              help="Another file or folder (e.g. the test split): report queries and passages in both (leakage).")
@click.option("-m", "--model", default=None,
              help="Count tokens with this local model's tokenizer (directory or Hugging Face id) and report "
                   "texts over its max length.")
@click.option("--max-length", type=click.IntRange(1), default=None,
              help="Max length in tokens [default: the model's max_seq_length]. Needs --model.")
@click.option("--split", default=None, help="Split to read when DATA has several (default: test, dev...).")
@click.option("--shared-threshold", type=click.IntRange(1), default=5, show_default=True,
              help="Report passages that occur in more than N rows.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write histograms of text lengths (PNG), with the model's max length marked.")
@click.option("--fix", "fix_value", is_flag=False, flag_value="", default=None, metavar="",
              help="Write a cleaned copy of DATA to -o: JSONL with the same keys for rows, a folder (corpus, "
                   "queries, qrels) for a retrieval folder. DATA itself is never modified.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Where --fix writes the cleaned copy.")
@click.option("--fix-log", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where --fix logs every change, one JSON line each [default: OUTPUT.changes.jsonl].")
@click.option("--overwrite", is_flag=True, help="Replace an existing --fix output and log, or --plot picture.")
@click.option("--strict", is_flag=True, help="Exit with 1 when any error-severity finding exists (for CI).")
@options([QUIET])
@click.pass_context
def inspect_command(ctx, data, other, model, max_length, split, shared_threshold, fmt, plot, fix_value, output, fix_log,
                    overwrite, strict, quiet) -> None:
    """Check reranking / training rows or a retrieval folder for data problems.

    DATA is JSONL ({query, positive, negative} or {query, pos, neg}), parquet, a Hugging Face dataset
    directory, or a retrieval folder (corpus, queries, qrels). Reported, each with a count, a severity
    and example rows: empty texts, duplicate rows and queries (also up to case, spaces and punctuation),
    passages both positive and negative, passages shared by many rows, rows without positives or
    negatives, qrels inconsistencies, lengths in characters and tokens (with --model), and with
    --against, queries and passages also found in another file. The exit code is 0 whatever is found,
    unless --strict.

    \b
    Examples:
      embedlab inspect train.jsonl
      embedlab inspect train.jsonl --against test.jsonl -m BAAI/bge-small-zh-v1.5 --plot lengths.png
      embedlab inspect train.jsonl --fix -o clean.jsonl        # also writes clean.changes.jsonl
      embedlab inspect train.jsonl --fix -o clean.jsonl --overwrite   # replace an earlier copy and log
      embedlab inspect data/retrieval --fix -o data/retrieval-clean
      embedlab inspect data/retrieval --format json --strict
    """
    if max_length is not None and model is None:
        raise click.UsageError("--max-length is in tokens: give --model too")
    fix_out = _fix_output(fix_value, output)
    if fix_log is not None and fix_out is None:
        raise click.UsageError("--fix-log needs --fix")
    if overwrite and fix_out is None and plot is None:
        raise click.UsageError("--overwrite needs --fix or --plot (the outputs it may replace)")
    from embedlab.quality import against, fix, inspect_path

    if plot is not None:  # before any work: never over an input (DATA, --against, the cleaned copy), nor an old plot
        from embedlab.data.output import check_output

        check_output(plot, inputs=[data, *(p for p in (other, fix_out, fix_log) if p is not None)],
                     overwrite=overwrite, role="plot")

    quiet_libraries(quiet)
    tokenizer, max_length = _tokenizer(model, max_length)
    fixed = None
    if fix_out is not None:  # first: a refused output path fails before the long part
        fixed = fix(data, fix_out, fix_log, split=split, overwrite=overwrite)
    # progress for a person at a terminal; a log gets the result (or the one error line) only
    progress = (lambda line: None) if quiet or not interactive() else (lambda line: click.echo(line, err=True))
    progress(f"inspecting {data} ...")
    inspection = inspect_path(data, split=split, tokenizer=tokenizer, max_length=max_length,
                              shared_threshold=shared_threshold)
    if other is not None:
        progress(f"comparing with {other} ...")
        against(inspection, other)
    if plot is not None:
        from embedlab.report.lengths import plot_lengths

        plot_lengths(inspection, plot)
        click.echo(f"length histograms written to {plot}", err=True)
    _show(inspection, fixed, fmt)
    severities = inspection.severity_counts()
    click.echo(", ".join(f"{n} {s}" for s, n in severities.items()) + " finding(s)", err=True)
    if strict and severities["error"]:
        click.echo(f"error: {severities['error']} error finding(s) (--strict)", err=True)
        ctx.exit(1)


def _fix_output(fix_value: str | None, output: Path | None) -> Path | None:
    """Where the cleaned copy goes: `--fix -o OUT`, or the old `--fix OUT` (kept for one release)."""
    if fix_value is None:
        if output is not None:
            raise click.UsageError("-o is where --fix writes its cleaned copy: give --fix too")
        return None
    if fix_value:
        if output is not None:
            raise click.UsageError("give the cleaned copy's path once: --fix -o OUT")
        note_renamed("--fix OUT", "--fix -o OUT")
        return Path(fix_value)
    if output is None:
        raise click.UsageError("give --fix -o OUT: where to write the cleaned copy")
    return output


def _tokenizer(model, max_length):
    """(the model's tokenizer, the max length in tokens); no tokenizer without a model."""
    if model is None:
        return None, max_length
    from embedlab.models.tokenizer import load_tokenizer

    tokenizer, model_max = load_tokenizer(model)
    max_length = max_length or model_max
    if max_length is None:
        click.echo(f"note: {model} has no max length; give --max-length to count texts over it", err=True)
    return tokenizer, max_length


def _show(inspection, fixed, fmt: str) -> None:
    if fmt == "json":
        payload = inspection.as_dict()
        if fixed is not None:
            payload["fix"] = asdict(fixed)
        click.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        return
    from embedlab.report.inspect import print_fix, print_inspection

    print_inspection(inspection)
    if fixed is not None:
        print_fix(fixed)


def interactive() -> bool:
    """Is a person watching stderr (a terminal)?"""
    return sys.stderr.isatty()
