"""The index vocabulary: one set of names for every command, old `--search` spellings mapped for a release."""

from __future__ import annotations

import pytest

from embedlab.errors import UnknownNameError
from embedlab.search.names import APPROXIMATE, INDEXES, RENAMED, index_name


def test_names_and_their_old_spellings():
    assert [index_name(name) for name in INDEXES] == list(INDEXES)
    assert {old: index_name(old) for old in RENAMED} == {"faiss": "flat", "faiss-ivf": "ivf", "faiss-hnsw": "hnsw"}
    assert set(APPROXIMATE) < set(INDEXES) and "exact" not in APPROXIMATE and "flat" not in APPROXIMATE


def test_an_unknown_index_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match=r"unknown index 'hsnw'; did you mean 'hnsw'\? \(known: exact, flat, hnsw"):
        index_name("hsnw")


def test_names_are_read_without_numpy():
    import subprocess
    import sys

    code = "import sys; import embedlab.search.names; assert 'numpy' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
