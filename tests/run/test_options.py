"""Run settings: one dataclass every command's run takes, with defaults the rest of the code understands."""

from __future__ import annotations

import dataclasses

from embedlab.metrics.names import DEFAULT_K
from embedlab.run.options import RunOptions
from embedlab.search.names import index_name


def test_the_defaults_are_a_plain_exact_run_of_every_row():
    run = RunOptions()
    assert run.k_values == DEFAULT_K and index_name(run.index) == "exact"
    assert run.sample is None and run.reranker is None and run.save_run is None and run.engine is None
    assert run.cache is None  # the cache's default: on for paid models only (embedding.cache.open_cache)


def test_every_setting_of_the_old_four_declarations_is_one_field():
    """evaluate's RunOptions, mine()'s and deploy_sweep's run settings and the shared context are one dataclass."""
    names = {f.name for f in dataclasses.fields(RunOptions)}
    assert {"cache", "engine", "progress", "announce", "max_cost", "price_per_mtok", "split", "seed"} <= names
