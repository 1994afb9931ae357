"""Old spellings kept for a release: hidden, merged into the new option with a note; old choice values and an old
positional argument the same way."""

from __future__ import annotations

import re

import click
from click.testing import CliRunner

from embedlab.cli.renamed import OldArgument, RenamedChoice, renamed


def _renamed_command(seen):
    """--size (once spelled --old-size) and -o/--output, repeatable (once --out), as a command would have them."""

    @click.command()
    @click.option("--size", type=float, default=0.2)
    @renamed("--old-size", "--size", "size", type=float)
    @click.option("-o", "--output", "outputs", multiple=True)
    @renamed("--out", "--output", "outputs", value=lambda path: (path, "old"))
    @click.option("--need", default=None)
    @renamed("--old-need", "--need", "need", required=True)
    def command(size, outputs, need):
        seen.update(size=size, outputs=outputs, need=need)

    return command


def test_renamed_option_is_hidden_and_merged_into_the_new_one_with_a_note():
    seen = {}
    command = _renamed_command(seen)
    new = CliRunner().invoke(command, ["--size", "0.3", "-o", "a", "--need", "x"])
    assert new.exit_code == 0 and new.stderr == "" and seen == {"size": 0.3, "outputs": ("a",), "need": "x"}
    old = CliRunner().invoke(command, ["--old-size", "0.4", "-o", "a", "--out", "b", "--old-need", "y"])
    assert old.exit_code == 0, old.output
    assert seen == {"size": 0.4, "outputs": ("a", ("b", "old")), "need": "y"}
    assert old.stderr.splitlines() == [f"note: {was} is now {now} (the old spelling goes in the next release)"
                                       for was, now in (("--old-size", "--size"), ("--out", "--output"),
                                                        ("--old-need", "--need"))]  # in the options' order
    shown = CliRunner().invoke(command, ["--help"]).output
    assert "--size" in shown and "--output" in shown and "--old-size" not in shown and "--old-need" not in shown
    assert not re.search(r"--out(?![\w-])", shown)


def test_renamed_option_given_both_ways_or_neither_way_is_a_usage_error():
    command = _renamed_command({})
    both = CliRunner().invoke(command, ["--size", "0.3", "--old-size", "0.4", "--need", "x"])
    assert both.exit_code == 2 and "give --size only (--old-size is its old spelling)" in both.stderr
    assert "note:" not in both.stderr
    missing = CliRunner().invoke(command, [])
    assert missing.exit_code == 2 and "Missing option '--need'" in missing.stderr


def test_renamed_choice_value_is_accepted_with_a_note_and_not_listed():
    @click.command()
    @click.option("--format", "fmt", type=RenamedChoice(["table", "json"], renamed={"text": "table"}), default="table")
    def command(fmt):
        click.echo(fmt)

    old = CliRunner().invoke(command, ["--format", "text"])
    assert old.exit_code == 0 and old.stdout == "table\n"
    assert old.stderr == "note: --format text is now --format table (the old spelling goes in the next release)\n"
    assert CliRunner().invoke(command, ["--format", "json"]).stderr == ""
    assert CliRunner().invoke(command, ["--format", "xml"]).exit_code == 2
    assert "[table|json]" in CliRunner().invoke(command, ["--help"]).output


def test_old_positional_argument_is_optional_and_left_out_of_the_usage_line():
    @click.command()
    @click.argument("source")
    @click.argument("target", cls=OldArgument)
    def command(source, target):
        click.echo(f"{source} {target}")

    assert CliRunner().invoke(command, ["a"]).stdout == "a None\n"
    assert CliRunner().invoke(command, ["a", "b"]).stdout == "a b\n"
    assert "Usage: command [OPTIONS] SOURCE\n" in CliRunner().invoke(command, ["--help"]).output
