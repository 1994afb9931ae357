"""`embedlab export-mteb`: results files as mteb 2.x result files, next to the published ones."""

from __future__ import annotations

import json
from pathlib import Path

import click

from embedlab.cli.renamed import renamed


@click.command("export-mteb")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The results folder to write into, as mteb's results repository and cache name it (`results/`): "
                   "files go to OUTPUT/{org__model}/{revision}/{Task}.json, with a model_meta.json beside them.")
@click.option("--run", "models", multiple=True, metavar="NAME",
              help="Export only this run (its name in tables, its full or short name). Repeatable.")
@renamed("--model", "--run", "models", multiple=True)
@click.option("--name", default=None, help="The model's name for mteb (org/model) [default: its name in the results; "
                                            "a local path's last parts]. One run only.")
@click.option("--revision", default=None, help="The model's revision for mteb [default: the one recorded].")
@click.option("--language", default="und-Zyyy", show_default=True,
              help="Language of custom data, as mteb writes it (ISO 639-3 and script, e.g. zho-Hans); C-MTEB tasks "
                   "have theirs.")
@click.option("--overwrite", is_flag=True, help="Replace result files that exist already.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def export_mteb_command(runs, output, models, name, revision, language, overwrite, fmt) -> None:
    """Write results files (of `embedlab eval`) as mteb 2.x result files.

    C-MTEB tasks evaluated by name keep mteb's task name, split and the dataset revision they were read at; other
    data is a custom task `Custom-<name>` (its dataset revision is the data's content hash). Reranking is exported
    with mteb 2.x's semantics (map_at_1000, mrr_at_10, ndcg_at_10); the C-MTEB (v1) scores stay beside them under
    the file's `embedlab` key. mteb's ResultCache reads the folder: ResultCache(OUTPUT/..).load_results().

    \b
    Examples:
      embedlab export-mteb results/bge.json -o mteb-results/results
      embedlab export-mteb results/all.json --run tuned -o results/ --name my-org/bge-tuned --revision v1
    """
    from embedlab.data.output import check_output, write_json
    from embedlab.results import Results
    from embedlab.results.mteb_export import export_mteb

    if output.exists() and not output.is_dir():
        raise click.UsageError(f"-o {output}: is a file; give the results folder to write into")
    export = export_mteb([Results.from_json(path) for path in runs], models=models, name=name, revision=revision,
                         language=language)
    targets = []
    for file in export.files:
        target = output / file.path
        if file.task or not _same_json(target, file.content):  # a model's model_meta.json is shared by its tasks
            check_output(target, inputs=runs, overwrite=overwrite)
            targets.append((target, file))
    for target, file in targets:
        write_json(target, file.content, indent=2)
    for note in export.notes:
        click.echo(f"note: {note}", err=True)
    written = [{"file": str(target), "model": file.model, "task": file.task,
                "main_score": file.content["scores"][next(iter(file.content["scores"]))][0]["main_score"]}
               for target, file in targets if file.task]
    if fmt == "json":
        click.echo(json.dumps(written, ensure_ascii=False, indent=1))
        return
    for row in written:
        click.echo(f"{row['file']}\t{row['task']}\t{100 * row['main_score']:.2f}")
    click.echo(f"{len(written)} mteb result file(s) written under {output}", err=True)


def _same_json(path: Path, content: dict) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8")) == content
    except (OSError, ValueError, RecursionError):
        return False
