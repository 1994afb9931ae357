"""Slow: the committed task table is mteb's own metadata (names, types, splits, main scores, datasets, revisions)."""

from __future__ import annotations

import pytest

from embedlab.tasks.cmteb_table import MTEB_VERSION, ROWS

pytestmark = pytest.mark.slow


def test_the_table_is_what_the_installed_mteb_lists():
    mteb = pytest.importorskip("mteb")
    from embedlab.tasks.mteb import cmteb_rows

    assert sorted(cmteb_rows()) == sorted(row[:7] for row in ROWS)
    installed = mteb.__version__ if hasattr(mteb, "__version__") else ""
    assert installed.split(".")[0] == MTEB_VERSION.split(".")[0]  # a 2.x table for a 2.x mteb


def test_the_names_old_results_use_are_mtebs():
    pytest.importorskip("mteb")
    from mteb.results.task_result import renamed_tasks

    ours = {alias: row[0] for row in ROWS for alias in row[10]}
    assert ours == {old: new for old, new in renamed_tasks.items() if new in {row[0] for row in ROWS}}
