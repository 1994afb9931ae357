"""`embedlab cache stats | clear`: what the embedding cache holds, and clearing it."""

from __future__ import annotations

from pathlib import Path

import click

from embedlab.cli.renamed import renamed


@click.group("cache")
def cache_group() -> None:
    """Inspect or clear the embedding cache."""


@cache_group.command("stats")
@click.option("--cache", "cache_path", type=click.Path(path_type=Path), default=None,
              help="Cache file [default: ~/.cache/embedlab/embeddings.sqlite].")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def cache_stats(cache_path, fmt) -> None:
    """Vectors stored per model key."""
    from embedlab.embedding.cache import DEFAULT_PATH, EmbeddingCache

    path = cache_path or DEFAULT_PATH
    if not path.exists():  # looking must not create one
        click.echo(f"{path}: no cache yet", err=True)
        return
    cache = EmbeddingCache(path)
    try:
        rows = cache.stats()
    finally:
        cache.close()
    if fmt == "json":
        import json

        click.echo(json.dumps({"path": str(path), "models": rows}, ensure_ascii=False, indent=1))
        return
    from embedlab.report.cache import cache_lines

    click.echo("\n".join(cache_lines(path, rows)))


@cache_group.command("clear")
@click.option("--cache", "cache_path", type=click.Path(path_type=Path), default=None)
@click.option("--key", "model_key", default=None, help="Only this model key (as `cache stats` shows).")
@renamed("--model", "--key", "model_key")
@click.confirmation_option(prompt="Delete the cached embeddings (they may have been paid for)?")
def cache_clear(cache_path, model_key) -> None:
    """Delete cached vectors (all, or one model key)."""
    from embedlab.embedding.cache import DEFAULT_PATH, EmbeddingCache

    path = cache_path or DEFAULT_PATH
    if not path.exists():
        click.echo(f"{path}: no cache, nothing to remove", err=True)
        return
    cache = EmbeddingCache(path)
    try:
        removed = cache.clear(model_key)
    finally:
        cache.close()
    click.echo(f"removed {removed:,} vectors", err=True)
