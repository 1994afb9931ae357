"""The CLI as a user runs it, in a subprocess: real model, bundled demo data."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def run(*args, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "embedlab.cli.main", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


def test_help_is_fast_and_does_not_import_torch():
    code = ("import sys; from embedlab.cli.main import cli\n"
            "try:\n    cli(['eval', '--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, 'heavy import'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "--reranking" in result.stdout and "--demo" in result.stdout


def commands(group=None, path=()):
    """(name, command) of every command of `embedlab`, subcommands of groups included."""
    import click

    from embedlab.cli.main import cli

    for name, command in (group or cli).commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


WRITERS = {"eval", "split", "finetune", "convert", "report", "inspect", "mine", "export-mteb"}
LONG = {"eval", "estimate", "mine", "finetune", "inspect", "report"}
NO_RESULT = {"cache clear"}  # prints only a message (stderr)
WRITERS, LONG = WRITERS | {"sweep", "export-mteb"}, LONG | {"sweep"}  # sweep writes a folder and encodes; export-mteb -o (README)
WRITERS, LONG = WRITERS | {"chunks"}, LONG | {"chunks"}  # chunks writes a folder (results.json, report.html) and encodes
WRITERS, LONG = WRITERS | {"synth"}, LONG | {"synth"}  # synth writes a set (a folder), asks an LLM, runs retrievers
WRITERS, LONG = WRITERS | {"distil"}, LONG | {"distil"}  # distil writes a static model folder, encoding a vocabulary


def test_every_command_follows_the_conventions():
    """One name per concept (README "Command-line conventions"), checked on every command's --help."""
    import click
    from click.testing import CliRunner

    from embedlab.cli.main import cli

    seen = set()
    for name, command in commands():
        seen.add(name)
        shown = CliRunner().invoke(cli, [*name.split(), "--help"])
        assert shown.exit_code == 0, name
        visible = {opt: param for param in command.params if not getattr(param, "hidden", False)
                   for opt in param.opts}
        for param in set(visible.values()):
            if "-o" in param.opts or "--output" in param.opts:
                assert param.opts == ["-o", "--output"] and "-o, --output" in shown.output, name
        for old in ("--out", "--html", "--markdown", "--dev"):
            assert old not in visible and not re.search(f"{old}(?![\\w-])", shown.output), (name, old)
        assert ("-o" in visible) == (name in WRITERS), name
        if "--format" in visible:
            choices = list(visible["--format"].type.choices)
            assert "table" in choices or (name, choices) == ("report", ["html", "markdown"]), name
        else:
            assert name in NO_RESULT, f"{name} prints a result: it needs --format"
        if "--test" in visible:
            assert isinstance(visible["--test"].type, click.Path), f"{name}: --test is held-out data (a path)"
        assert ("-q" in visible and "--quiet" in visible) or name not in LONG, name
        if "--overwrite" in visible:
            assert visible["--overwrite"].is_flag, name
    assert WRITERS | LONG | NO_RESULT <= seen


def spellings(command) -> set[str]:
    """A command's visible options as README spells them: `-o/--output`, `--input-type/--no-input-type`."""
    import click

    return {"/".join(p.opts + p.secondary_opts) for p in command.params
            if isinstance(p, click.Option) and not p.hidden}


def readme_table() -> dict[str, set[str]]:
    """README "Command-line conventions": spelling -> the commands the table says take it (one row each)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("## Command-line conventions", 1)[1].split("\n## ", 1)[0]
    table: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        for spelling in re.findall(r"`([^`]+)`", cells[0]):
            assert spelling not in table, f"{spelling} is in two rows: one spelling, one concept"
            table[spelling] = {c.strip() for c in cells[2].split(",")}
    return table


def test_the_readme_lists_every_option_of_every_command():
    """The conventions table is the CLI: every visible option of every command, and nothing else."""
    table = readme_table()
    for name, command in commands():
        listed = {spelling for spelling, where in table.items() if name in where}
        assert listed == spellings(command), (name, listed ^ spellings(command))
    known = {name for name, _ in commands()}
    assert set().union(*table.values()) <= known
