"""Ragged token blocks: selection without copying, compaction, bytes."""

from __future__ import annotations

import numpy as np

from embedlab.search.ragged import Ragged


def test_take_then_compact_keeps_each_texts_tokens():
    blocks = [np.full((n, 2), i, dtype=np.float32) for i, n in enumerate([3, 1, 2])]
    ragged = Ragged.of(blocks)
    picked = ragged.take(np.array([2, 0, 2]))
    assert picked.vectors is ragged.vectors
    compact = picked.compact()
    assert compact.starts.tolist() == [0, 2, 5] and [b[0, 0] for b in compact.blocks()] == [2, 0, 2]
    assert compact.nbytes == 7 * 2 * 4 and Ragged.of([], dim=2).vectors.shape == (0, 2)
