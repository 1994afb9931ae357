"""`embedlab report`: results files (and fine-tuning curves) as one HTML page and / or markdown."""

from __future__ import annotations

from pathlib import Path

import click

from embedlab.cli.compare import QUERIES, merged_results
from embedlab.cli.options import FINITE, QUIET, options
from embedlab.cli.renamed import renamed

_FILE = click.Path(dir_okay=False, path_type=Path)
_SUFFIXES = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}


@click.command("report")
@click.argument("runs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--curve", "curves", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A fine-tuning curve.json (from `embedlab finetune`) to include. Repeatable.")
@click.option("-o", "--output", "outputs", multiple=True, type=_FILE,
              help="A file to write, in the format of its suffix: .html/.htm = one self-contained page (plots "
                   "inlined, no network), .md/.markdown = markdown tables (for pull requests); '-' = markdown "
                   "on stdout. Repeatable.")
@renamed("--html", "--output", "outputs", value=lambda path: (path, "html"), type=_FILE)
@renamed("--markdown", "--output", "outputs", value=lambda path: (path, "markdown"), type=_FILE)
@click.option("--format", "fmt", type=click.Choice(["html", "markdown"]), default=None,
              help="Write every -o in this format, whatever its suffix.")
@click.option("--overwrite", is_flag=True, help="Replace an existing file embedlab did not write (its own reports are "
              "regenerated without it); never one of the inputs.")
@click.option("--baseline", default=None, help="Model the others are compared with [default: the first].")
@click.option("--title", default="embedlab report", show_default=True)
@options([QUIET])
@click.option("--price-per-mtok", type=FINITE, default=None,
              help="API cost of models the price table does not know (a custom endpoint), per million tokens; "
                   "a price recorded by `eval --price-per-mtok` wins.")
@click.option("--queries", type=click.IntRange(0), default=QUERIES, show_default=True, metavar="N",
              help="Per retrieval task, the N queries where each model and the baseline differ most, with both "
                   "models' top 5 (from runs saved by `eval --save-run`; 0: none).")
def report_command(runs, curves, outputs, fmt, overwrite, baseline, title, price_per_mtok, queries, quiet) -> None:
    """A report of results files (and fine-tuning curves) as HTML and/or markdown.

    \b
    Examples:
      embedlab report results/bge.json results/tuned.json -o report.html -o report.md
      embedlab report results/*.json --curve runs/bge-t2/curve.json -o -    # markdown on stdout
    """
    if not runs and not curves:
        raise click.UsageError("give results files and/or --curve files")
    if not outputs:
        raise click.UsageError("give -o FILE (.html or .md; '-' for markdown on stdout)")
    from embedlab.errors import require_all

    require_all([("matplotlib", "embedlab report (its plots)")])  # before minutes of statistics, not after
    targets = _targets(outputs, fmt, inputs=[*runs, *curves], overwrite=overwrite)
    from embedlab.data.output import write_text
    from embedlab.report.page import build
    from embedlab.results.curve import Curve

    progress = None if quiet else (lambda line: click.echo(f"report: {line}", err=True))
    loaded, notes = merged_results(runs)
    page, markdown = build(loaded, curves=[Curve.load(p) for p in curves], baseline=baseline, title=title,
                           price_per_mtok=price_per_mtok, queries=queries, progress=progress, notes=notes)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    for path, kind in targets:
        text = page if kind == "html" else markdown + "\n"
        if str(path) == "-":
            click.echo(text, nl=False)
        else:
            write_text(path, text)
            click.echo(f"{kind} report written to {path}", err=True)


def _targets(outputs, fmt, *, inputs, overwrite) -> list[tuple[Path, str]]:
    """(path, format) per output, each checked before any work: the format is --format's, the old option's
    (--html / --markdown), or the suffix's; '-' is markdown on stdout."""
    from embedlab.data.output import check_output

    targets = []
    for output in outputs:
        path, kind = output if isinstance(output, tuple) else (output, fmt)
        kind = kind or ("markdown" if str(path) == "-" else _SUFFIXES.get(path.suffix.lower()))
        if kind is None:
            raise click.UsageError(f"-o {path}: no format for the suffix {path.suffix!r}: "
                                   "name it .html or .md, or give --format html|markdown")
        if str(path) != "-":
            check_output(path, inputs=inputs, overwrite=overwrite, regenerate=True)
        targets.append((path, kind))
    return targets
