"""What `embedlab inspect` prints: a summary, a table of lengths, the findings (a table, or a few lines each
in a narrow terminal) and what `--fix` changed."""

from __future__ import annotations

from pathlib import Path

from embedlab.quality import Finding, FixResult, Inspection
from embedlab.results.table import short_name

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}
SHOWN_LOCATIONS = 3
TABLE_MIN_WIDTH = 140  # narrower, a five-column table would cut the locations: findings are listed instead


def print_inspection(inspection: Inspection, console=None) -> None:
    """The summary, the lengths and the findings on stdout (or `console`, a rich Console)."""
    if console is None:
        from embedlab.report.table import stdout

        console = stdout()
    for line in summary_lines(inspection):
        console.print(line, highlight=False, markup=False)
    console.print(lengths_table(inspection))
    if not inspection.findings:
        console.print("no findings")
    elif console.width >= TABLE_MIN_WIDTH:
        console.print(findings_table(inspection))
    else:
        console.print("findings")
        for finding in inspection.findings:
            for line in findings_entry(finding):
                console.print(line, highlight=False, no_wrap=line.no_wrap, overflow=line.overflow)


def summary_lines(inspection: Inspection) -> list[str]:
    c, name = inspection.counts, Path(inspection.source).name
    if inspection.layout == "retrieval":
        judged = inspection.per_row["judgments"]
        lines = [(f"{name}: retrieval folder, {c['documents']:,} documents, {c['queries']:,} queries, "
                  f"{c['judgments']:,} judgments ({c['judged_queries']:,} queries judged, "
                  f"{c['queries_with_relevant']:,} with a relevant document)"),
                 f"judgments per query: {spread(judged)}"]
    else:
        styles = ", ".join(f"{style} {n:,}" for style, n in inspection.key_styles.items())
        lines = [(f"{name}: {c['rows']:,} rows (keys {styles}), {c['distinct_queries']:,} distinct queries, "
                  f"{c['distinct_passages']:,} distinct passages ({c['distinct_positives']:,} positives)"),
                 (f"positives per row: {spread(inspection.per_row['positives'])}; "
                  f"negatives per row: {spread(inspection.per_row['negatives'])}")]
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


def lengths_table(inspection: Inspection):
    from rich.table import Table

    with_tokens = bool(inspection.tokens)
    table = Table(title="lengths (min / p50 / p95 / max)", title_justify="left")
    for header in ("kind", "texts", "characters") + (("tokens", "over max") if with_tokens else ()):
        table.add_column(header, justify="left" if header == "kind" else "right")
    for kind, chars in inspection.lengths.items():
        cells = [kind, f"{chars['count']:,}", quartet(chars)]
        if with_tokens:
            tokens = inspection.tokens[kind]
            cells += [quartet(tokens), f"{tokens['over_max']:,}" if "over_max" in tokens else "–"]
        table.add_row(*cells)
    return table


def findings_table(inspection: Inspection):
    from rich.table import Table
    from rich.text import Text

    table = Table(title="findings", title_justify="left", show_lines=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("code", no_wrap=True)
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("message")
    table.add_column("examples")
    for finding in inspection.findings:
        locations, example = examples(finding)
        table.add_row(Text(finding.severity, style=SEVERITY_STYLE[finding.severity]), finding.code,
                      f"{finding.count:,}", Text(finding.message),  # the data's own text, never rich markup
                      Text(locations + (f"\ne.g. {example}" if example else "")))
    return table


def findings_entry(finding: Finding):
    """A finding as a few lines (for narrow terminals): severity, code, count and message; where; an example."""
    from rich.text import Text

    locations, example = examples(finding)
    lines = [Text.assemble((f"{finding.severity:<8}", SEVERITY_STYLE[finding.severity]),
                           f" {finding.code} ({finding.count:,}): {finding.message}"),
             Text(f"         at {locations}", no_wrap=True, overflow="ellipsis")]
    return lines + ([Text(f"         e.g. {example}", no_wrap=True, overflow="ellipsis")] if example else [])


def examples(finding: Finding) -> tuple[str, str]:
    """The first few distinct locations ('...' when there are more) and the first example's text."""
    places = list(dict.fromkeys(finding.locations))
    more = len(places) > SHOWN_LOCATIONS or finding.count > len(finding.examples)
    example = finding.examples[0].text if finding.examples else ""
    return ", ".join(places[:SHOWN_LOCATIONS]) + (" ..." if more else ""), example


def fix_lines(fixed: FixResult) -> list[str]:
    """What `--fix` wrote and each kind of change with its count."""
    lines = [f"cleaned copy: {fixed.out} ({fixed.rows_written:,} of {fixed.rows_read:,} {fixed.unit}); "
             f"every change logged in {fixed.log}"]
    lines += [f"  {action}: {count:,}" for action, count in fixed.actions.items()]
    return lines if fixed.actions else lines + ["  no changes were needed"]


def print_fix(fixed: FixResult, console=None) -> None:
    if console is None:
        from embedlab.report.table import stdout

        console = stdout()
    for line in fix_lines(fixed):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def spread(values: dict) -> str:
    """min–max (mean m)"""
    return f"{values['min']}–{values['max']} (mean {values['mean']})"


def quartet(values: dict) -> str:
    """min / p50 / p95 / max, or – without values."""
    if not values.get("count"):
        return "–"
    return " / ".join(f"{values[k]:,}" for k in ("min", "p50", "p95", "max"))
