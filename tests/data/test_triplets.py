from pathlib import Path

from embedlab.data.triplets import expand, group, is_negative_key

F = Path("in.jsonl")


def test_expand_crosses_positives_and_negatives_and_reports_other_fields():
    out = expand([(F, 1, {"query": "q", "pos": ["a", "b"], "neg": ["x", "y"], "prompt": "p"}),
                  (F, 2, {"query": "r", "positive": ["c"]}),
                  (F, 3, {"query": "s", "positive": [], "negative": ["z"], "prompt": "p"})])
    assert [r for _, _, r in out.rows] == [
        {"anchor": "q", "positive": "a", "negative": "x"}, {"anchor": "q", "positive": "a", "negative": "y"},
        {"anchor": "q", "positive": "b", "negative": "x"}, {"anchor": "q", "positive": "b", "negative": "y"},
        {"anchor": "r", "positive": "c"}]
    assert out.pair_rows == 1 and out.no_positive == 1
    assert out.dropped.rows == {"prompt": 2} and out.dropped.first == {"prompt": (F, 1)}


def test_group_keeps_agreeing_fields_and_drops_colliding_ones():
    grouped = group([(F, 1, {"anchor": "a", "positive": "p", "negative": "n", "query": "other", "k": 1}),
                     (F, 2, {"anchor": "a", "positive": "p", "negative_1": "m", "k": 1})], "pos", "neg")
    assert grouped.rows == [(F, 1, {"query": "a", "pos": ["p"], "neg": ["n", "m"], "k": 1})]
    assert grouped.dropped.rows == {"query": 1}


def test_negative_keys():
    assert [k for k in ("negative", "negative_3", "negatives", "negative_x", "neg") if is_negative_key(k)] == [
        "negative", "negative_3"]
