"""Old spellings kept for one release: a hidden option (`renamed`), old choice values (`RenamedChoice`), an old
positional argument (`OldArgument`); each prints one note on stderr when used."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource


def note_renamed(old: str, new: str) -> None:
    """The one stderr line an old spelling prints while it is still accepted."""
    click.echo(f"note: {old} is now {new} (the old spelling goes in the next release)", err=True)


def renamed(old: str, new: str, dest: str, *, value: Callable[[Any], Any] | None = None, required: bool = False,
            **attrs):
    """A hidden option `old`, kept for one release: its value goes to the parameter `dest` (the option now
    spelled `new`), with a note on stderr. Place it among the command's options (below `@click.command`).

    `attrs` are the old option's click attributes (type, multiple, ...); `value` turns an old value into a
    new one. A multiple `dest` gets the old values added; a single one given both ways is a usage error.
    `required`: `dest` must be given one way or the other (declare the new option not required to click).
    """
    name = "renamed_" + old.strip("-").replace("-", "_")

    def decorate(function):
        @functools.wraps(function)
        def command(*args, **kwargs):
            given = kwargs.pop(name)
            ctx = click.get_current_context()
            if given is not None and given != ():
                several = isinstance(kwargs[dest], tuple)
                if not several and ctx.get_parameter_source(dest) is not ParameterSource.DEFAULT:
                    raise click.UsageError(f"give {new} only ({old} is its old spelling)")
                note_renamed(old, new)
                values = [value(v) if value else v for v in (given if attrs.get("multiple") else [given])]
                kwargs[dest] = (*kwargs[dest], *values) if several else values[0]
            if required and kwargs[dest] is None:
                raise click.MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == dest))
            return function(*args, **kwargs)

        return click.option(old, name, hidden=True, **attrs)(command)

    return decorate


class RenamedChoice(click.Choice):
    """A choice whose old values are still accepted for one release, with a note: they are not listed in
    `--help`. `RenamedChoice(["table", "json"], renamed={"text": "table"})`."""

    def __init__(self, choices, renamed: dict[str, str], **kwargs):
        super().__init__(choices, **kwargs)
        self.renamed = renamed

    def convert(self, value, param, ctx):
        if value in self.renamed:
            option = param.opts[-1] if param is not None else ""
            note_renamed(f"{option} {value}".strip(), f"{option} {self.renamed[value]}".strip())
            value = self.renamed[value]
        return super().convert(value, param, ctx)


class OldArgument(click.Argument):
    """An optional positional argument kept for one release: accepted, but not shown in the usage line."""

    def __init__(self, param_decls, **attrs):
        super().__init__(param_decls, required=False, **attrs)

    def get_usage_pieces(self, ctx):
        return []
