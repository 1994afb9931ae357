"""`embedlab inspect`: data-quality diagnostics of reranking / training rows or a retrieval folder."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}
_SHOWN_LOCATIONS = 3
_TABLE_MIN_WIDTH = 140  # narrower, a five-column table would cut the locations: findings are listed instead


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
@click.option("--fix", "fix_out", type=click.Path(path_type=Path), default=None,
              help="Write a cleaned copy of DATA here: JSONL with the same keys for rows, a folder (corpus, "
                   "queries, qrels) for a retrieval folder. DATA itself is never modified.")
@click.option("--fix-log", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where --fix logs every change, one JSON line each [default: OUT.changes.jsonl].")
@click.option("--strict", is_flag=True, help="Exit with 1 when any error-severity finding exists (for CI).")
@click.pass_context
def inspect_command(ctx, data, other, model, max_length, split, shared_threshold, fmt, plot, fix_out, fix_log,
                    strict) -> None:
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
      embedlab inspect train.jsonl --fix clean.jsonl        # also writes clean.changes.jsonl
      embedlab inspect data/retrieval --fix data/retrieval-clean
      embedlab inspect data/retrieval --format json --strict
    """
    if max_length is not None and model is None:
        raise click.UsageError("--max-length is in tokens: give --model too")
    if fix_log is not None and fix_out is None:
        raise click.UsageError("--fix-log needs --fix")
    from embedlab.data.inspect import against, inspect_path

    tokenizer = None
    if model is not None:
        from embedlab.models.tokenizer import load_tokenizer

        tokenizer, model_max = load_tokenizer(model)
        max_length = max_length or model_max
        if max_length is None:
            click.echo(f"note: {model} has no max length; give --max-length to count texts over it", err=True)
    fixed = None
    if fix_out is not None:  # first: a refused output path fails before the long part
        from embedlab.data.fix import fix

        fixed = fix(data, fix_out, fix_log, split=split)
    click.echo(f"inspecting {data} ...", err=True)
    inspection = inspect_path(data, split=split, tokenizer=tokenizer, max_length=max_length,
                              shared_threshold=shared_threshold)
    if other is not None:
        click.echo(f"comparing with {other} ...", err=True)
        against(inspection, other)
    if plot is not None:
        from embedlab.report.lengths import plot_lengths

        plot_lengths(inspection, plot)
        click.echo(f"length histograms written to {plot}", err=True)

    if fmt == "json":
        payload = inspection.as_dict()
        if fixed is not None:
            payload["fix"] = asdict(fixed)
        click.echo(json.dumps(payload, ensure_ascii=False, indent=1))
    else:
        print_inspection(inspection)
        if fixed is not None:
            print_fix(fixed)
    severities = inspection.severity_counts()
    click.echo(", ".join(f"{n} {s}" for s, n in severities.items()) + " finding(s)", err=True)
    if strict and severities["error"]:
        click.echo(f"error: {severities['error']} error finding(s) (--strict)", err=True)
        ctx.exit(1)


def print_inspection(inspection) -> None:
    from rich.console import Console

    console = Console()
    for line in summary_lines(inspection):
        console.print(line, highlight=False, markup=False)
    console.print(lengths_table(inspection))
    if not inspection.findings:
        console.print("no findings")
    elif console.width >= _TABLE_MIN_WIDTH:
        console.print(findings_table(inspection))
    else:
        console.print("findings")
        for finding in inspection.findings:
            for line in findings_entry(finding):
                console.print(line, highlight=False, no_wrap=line.no_wrap, overflow=line.overflow)


def summary_lines(inspection) -> list[str]:
    from embedlab.report.table import short_name

    c, name = inspection.counts, Path(inspection.source).name
    if inspection.layout == "retrieval":
        judged = inspection.per_row["judgments"]
        lines = [(f"{name}: retrieval folder, {c['documents']:,} documents, {c['queries']:,} queries, "
                  f"{c['judgments']:,} judgments ({c['judged_queries']:,} queries judged, "
                  f"{c['queries_with_relevant']:,} with a relevant document)"),
                 f"judgments per query: {_spread(judged)}"]
    else:
        styles = ", ".join(f"{style} {n:,}" for style, n in inspection.key_styles.items())
        lines = [(f"{name}: {c['rows']:,} rows (keys {styles}), {c['distinct_queries']:,} distinct queries, "
                  f"{c['distinct_passages']:,} distinct passages ({c['distinct_positives']:,} positives)"),
                 (f"positives per row: {_spread(inspection.per_row['positives'])}; "
                  f"negatives per row: {_spread(inspection.per_row['negatives'])}")]
    if inspection.tokenizer:
        limit = f", max length {inspection.max_length}" if inspection.max_length else ""
        lines.append(f"tokens of {short_name(inspection.tokenizer)}{limit}")
    if inspection.against:
        theirs = inspection.against
        size = ", ".join(f"{n:,} {what.replace('_', ' ')}" for what, n in list(theirs["counts"].items())[:2])
        leaks = {code: inspection.finding(code).count if inspection.finding(code) else 0
                 for code in ("leak_query", "leak_normalised_query", "leak_passage")}
        lines.append(f"against {theirs['source']} ({size}): {leaks['leak_query']:,} queries in both, "
                     f"{leaks['leak_normalised_query']:,} more equal after normalisation, "
                     f"{leaks['leak_passage']:,} passages in both")
    return lines


def lengths_table(inspection):
    from rich.table import Table

    with_tokens = bool(inspection.tokens)
    table = Table(title="lengths (min / p50 / p95 / max)", title_justify="left")
    for header in ("kind", "texts", "characters") + (("tokens", "over max") if with_tokens else ()):
        table.add_column(header, justify="left" if header == "kind" else "right")
    for kind, chars in inspection.lengths.items():
        cells = [kind, f"{chars['count']:,}", _quartet(chars)]
        if with_tokens:
            tokens = inspection.tokens[kind]
            cells += [_quartet(tokens), f"{tokens['over_max']:,}" if "over_max" in tokens else "–"]
        table.add_row(*cells)
    return table


def findings_table(inspection):
    from rich.table import Table

    table = Table(title="findings", title_justify="left", show_lines=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("code", no_wrap=True)
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("message")
    table.add_column("examples")
    for finding in inspection.findings:
        locations, example = _examples(finding)
        table.add_row(f"[{_SEVERITY_STYLE[finding.severity]}]{finding.severity}[/]", finding.code,
                      f"{finding.count:,}", _escape(finding.message),
                      _escape(locations + (f"\ne.g. {example}" if example else "")))
    return table


def findings_entry(finding):
    """A finding as a few lines (for narrow terminals): severity, code, count and message; where; an example."""
    from rich.text import Text

    locations, example = _examples(finding)
    lines = [Text.assemble((f"{finding.severity:<8}", _SEVERITY_STYLE[finding.severity]),
                           f" {finding.code} ({finding.count:,}): {finding.message}"),
             Text(f"         at {locations}", no_wrap=True, overflow="ellipsis")]
    return lines + ([Text(f"         e.g. {example}", no_wrap=True, overflow="ellipsis")] if example else [])


def _examples(finding) -> tuple[str, str]:
    """The first few distinct locations ('...' when there are more) and the first example's text."""
    places = list(dict.fromkeys(finding.locations))
    more = len(places) > _SHOWN_LOCATIONS or finding.count > len(finding.examples)
    example = finding.examples[0].text if finding.examples else ""
    return ", ".join(places[:_SHOWN_LOCATIONS]) + (" ..." if more else ""), example


def print_fix(fixed) -> None:
    click.echo(f"cleaned copy: {fixed.out} ({fixed.rows_written:,} of {fixed.rows_read:,} {fixed.unit}); "
               f"every change logged in {fixed.log}")
    for action, count in fixed.actions.items():
        click.echo(f"  {action}: {count:,}")
    if not fixed.actions:
        click.echo("  no changes were needed")


def _spread(values: dict) -> str:
    return f"{values['min']}–{values['max']} (mean {values['mean']})"


def _quartet(values: dict) -> str:
    if not values.get("count"):
        return "–"
    return " / ".join(f"{values[k]:,}" for k in ("min", "p50", "p95", "max"))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
