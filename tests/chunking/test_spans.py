"""The span metrics against Chroma's definitions, re-implemented here independently on token-id sets."""

import numpy as np
import pytest

from embedlab.chunking.spans import ChunkTable, Excerpts, document_scores, span_scores


def chroma(excerpt_tokens: set, retrieved: list[set]) -> tuple[float, float, float]:
    """Smith & Troynikov (Chroma, 2024): recall |te ∩ tr| / |te|, precision |te ∩ tr| / |tr|, IoU |te ∩ tr| /
    (|te| + |tr| - |te ∩ tr|), the intersection counting each token once and |tr| every retrieved token
    (a token in two overlapping chunks twice)."""
    shared = len(excerpt_tokens & set().union(*retrieved)) if retrieved else 0
    tr = sum(len(r) for r in retrieved)
    te = len(excerpt_tokens)
    return (shared / te if te else 0.0, shared / tr if tr else 0.0,
            shared / (te + tr - shared) if te + tr - shared else 0.0)


def test_hand_made_case():
    # document 0 tokens 0..19; chunks [0,8) [6,14) [14,20) and a chunk of document 1
    table = ChunkTable(doc=np.array([0, 0, 0, 1]), start=np.array([0, 6, 14, 0]), end=np.array([8, 14, 20, 5]),
                       lo=np.array([0, 6, 14, 0]), hi=np.array([8, 14, 20, 5]))
    # the answer is tokens 5..9 (characters = tokens here): it straddles chunks 0 and 1, whole in neither
    excerpts = Excerpts(np.array([0]), [[(5, 10)]], [np.arange(5, 10)])
    ranked = np.array([[1, 3, 0, 2]])
    out = span_scores(table, excerpts, ranked, 2)
    # top 2: chunk 1 (tokens 6..13) + the other document's chunk (5 tokens): shared 6,7,8,9 = 4
    assert out["span_recall@2"][0] == pytest.approx(4 / 5)
    assert out["span_precision@2"][0] == pytest.approx(4 / 13)
    assert out["span_iou@2"][0] == pytest.approx(4 / (5 + 13 - 4))
    assert out["answer_hit@2"][0] == 0 and out["answer_rank"][0] == 5  # no chunk holds it whole: depth + 1
    assert out["context_tokens@2"][0] == 13


@pytest.mark.parametrize("seed", range(5))
def test_random_cases_match_chroma_on_token_ids(seed):
    rng = np.random.default_rng(seed)
    n_docs, lengths = 3, [60, 45, 80]
    lo, hi, doc = [], [], []
    for d, length in enumerate(lengths):  # overlapping windows of random sizes
        at = 0
        while at < length:
            size = int(rng.integers(5, 20))
            lo.append(at), hi.append(min(at + size, length)), doc.append(d)
            at += max(1, size - int(rng.integers(0, 5)))
    table = ChunkTable(np.array(doc), np.array(lo), np.array(hi), np.array(lo), np.array(hi))
    n_queries, k = 40, 4
    qdoc = rng.integers(0, n_docs, n_queries)
    spans = []
    for q in range(n_queries):
        start = int(rng.integers(0, lengths[qdoc[q]] - 6))
        spans.append([(start, start + int(rng.integers(1, 6)))])
    tokens = [np.array(sorted({t for s, e in sp for t in range(s, e)})) for sp in spans]
    ranked = np.stack([rng.permutation(len(lo))[:10] for _ in range(n_queries)])
    ranked[0, 7:] = -1  # padding is ignored
    out = span_scores(table, Excerpts(qdoc, spans, tokens), ranked, k)
    for q in range(n_queries):
        retrieved = [set(range(lo[c], hi[c])) if doc[c] == qdoc[q] else {(-1 - doc[c], t) for t in range(lo[c], hi[c])}
                     for c in ranked[q, :k] if c >= 0]
        recall, precision, iou = chroma(set(tokens[q].tolist()), retrieved)
        assert out[f"span_recall@{k}"][q] == pytest.approx(recall, abs=1e-12)
        assert out[f"span_precision@{k}"][q] == pytest.approx(precision, abs=1e-12)
        assert out[f"span_iou@{k}"][q] == pytest.approx(iou, abs=1e-12)
        holds = [c >= 0 and doc[c] == qdoc[q] and lo[c] <= spans[q][0][0] and hi[c] >= spans[q][0][1]
                 for c in ranked[q]]
        assert out[f"answer_hit@{k}"][q] == float(any(holds[:k]))
        assert out["answer_rank"][q] == (holds.index(True) + 1 if any(holds) else 11)


def test_document_level_scores():
    table = ChunkTable(np.array([0, 0, 1]), np.zeros(3), np.ones(3), np.zeros(3, int), np.array([3, 4, 5]))
    out = document_scores(table, [{1}, {2}], np.array([[0, 2], [1, 0]]), 1)
    assert out["document_hit@1"].tolist() == [0.0, 0.0] and out["context_tokens@1"].tolist() == [3.0, 4.0]
    assert document_scores(table, [{1}], np.array([[0, 2]]), 2)["document_hit@2"].tolist() == [1.0]
