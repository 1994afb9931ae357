"""Variants: parsing, the grid (baseline first, pairs an index cannot hold left out with a note), bad input as
one line."""

from __future__ import annotations

import pytest

from embedlab.deploy.variants import DEFAULT_PRECISIONS, Variant, grid, parse_dims, parse_indexes, parse_precisions
from embedlab.errors import EmbedlabError, UnknownNameError


def test_parsing():
    assert parse_dims("384, 256,256,128") == (384, 256, 128)
    assert parse_precisions("float32,INT8,binary+rescore") == ("float32", "int8", "binary+rescore")
    assert parse_indexes("exact,hnsw") == ("exact", "hnsw")
    with pytest.raises(EmbedlabError, match="as numbers"):
        parse_dims("big")
    with pytest.raises(UnknownNameError, match="did you mean 'int8'"):
        parse_precisions("int9")


def test_grid_puts_the_baseline_first_and_leaves_out_what_an_index_cannot_hold():
    variants, notes = grid("m", 64, (32, 64), ("int8", "binary"), ("exact", "hnsw"))
    assert variants[0] == Variant(64, "float32", "exact")
    assert Variant(32, "int8", "exact") in variants and Variant(32, "binary", "hnsw") in variants
    assert not any(v.index == "hnsw" and v.precision == "int8" for v in variants)
    assert notes == ["int8 × hnsw left out: hnsw cannot hold int8 vectors"]
    assert Variant(64, "binary+rescore").bytes_per_vector == 8
    assert Variant(64, "int8", "usearch", "").label() == "@64 int8 usearch prompt:none"


def test_bad_input_is_one_line():
    with pytest.raises(EmbedlabError, match=r"^--dims 512 is more than the 384 dimensions of m: give dimensions up to 384$"):
        grid("m", 384, (512,), ("float32",), ("exact",))
    with pytest.raises(EmbedlabError, match="--precision int8: no --index given can hold int8 vectors .* exact or usearch can"):
        grid("m", 384, (384,), ("int8",), ("hnsw", "ivf"))


def test_a_default_precision_no_index_given_can_hold_is_left_out_with_a_note_not_blamed():
    """Issue 24, item 21: `sweep --index hnsw` alone said "--precision int8: no --index given can hold int8", and
    --precision had not been given."""
    variants, notes = grid("m", 64, (64,), DEFAULT_PRECISIONS, ("hnsw",))
    assert [(v.precision, v.index) for v in variants] == [("float32", "exact"), ("float32", "hnsw"),
                                                          ("binary", "hnsw")]
    assert notes == ["int8 (a default --precision) left out: no --index given (hnsw) can hold int8 vectors; exact "
                     "or usearch can"]
    with pytest.raises(EmbedlabError, match="--precision int8: no --index given"):  # given: still one line
        grid("m", 64, (64,), ("float32", "int8"), ("hnsw",))
