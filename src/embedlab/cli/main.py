"""`embedlab` CLI: the group, and every command registered on it (one module per command). Results go to stdout,
progress and messages to stderr; bad input exits 2 with one line."""

from __future__ import annotations

import logging
import sys

import click

from embedlab import __version__
from embedlab.cli.cache import cache_group
from embedlab.cli.chunks import chunks_command
from embedlab.cli.compare import compare_command
from embedlab.cli.convert import convert_command
from embedlab.cli.distil import distil_command
from embedlab.cli.estimate import estimate_command
from embedlab.cli.eval import eval_command
from embedlab.cli.export_mteb import export_mteb_command
from embedlab.cli.finetune import finetune_command
from embedlab.cli.inspect import inspect_command
from embedlab.cli.leaderboard import leaderboard_command
from embedlab.cli.mine import mine_command
from embedlab.cli.report import report_command
from embedlab.cli.split import split_command
from embedlab.cli.sweep import sweep_command
from embedlab.cli.synth import synth_command
from embedlab.errors import EmbedlabError


class _Group(click.Group):
    """Turns embedlab's typed errors into one clear line and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EmbedlabError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="embedlab")
@click.option("-v", "--verbose", is_flag=True, help="Log details to stderr.")
def cli(verbose: bool) -> None:
    """Which text-embedding model for your RAG data? Evaluate, compare, fine-tune."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


for command in (eval_command, estimate_command, compare_command, report_command, leaderboard_command,
                sweep_command, inspect_command, mine_command, convert_command, split_command, finetune_command,
                export_mteb_command, chunks_command, synth_command, distil_command, cache_group):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="embedlab")


if __name__ == "__main__":
    main()
