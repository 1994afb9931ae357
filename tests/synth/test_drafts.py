from embedlab.synth.drafts import Draft, Generated


def test_a_draft_is_a_value_and_each_set_counts_its_own_skips():
    assert Draft("q", "p", ("p",)) == Draft("q", "p", ("p",), "")
    first, second = Generated([], {}), Generated([], {})
    first.skipped["no title"] += 1
    assert second.skipped == {} and second.info == {}
