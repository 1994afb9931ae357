import pytest

from embedlab.synth.copying import copied_share, distribution, units


def test_units_are_words_and_han_bigrams():
    assert units("Green TEA, ２ cups") == ["green", "tea", "2", "cups"]  # NFKC, case-folded
    assert units("绿茶冲泡") == ["绿茶", "茶冲", "冲泡"]
    assert units("茶 in 水") == ["茶", "in", "水"]  # a single Han character is its own unit
    assert units("。！") == []


def test_the_copied_share():
    document = "Green tea is brewed at 80 degrees. 绿茶用八十度的水冲泡。"
    assert copied_share("green tea temperature", document) == pytest.approx(2 / 3)
    assert copied_share("绿茶冲泡", document) == pytest.approx(2 / 3)  # 绿茶, 冲泡 in; 茶冲 not
    assert copied_share("what?", document) == 0.0
    assert copied_share("。", document) == 0.0


def test_the_distribution():
    found = distribution([0.0, 0.05, 0.5, 0.95, 1.0], 0.8)
    assert found["queries"] == 5 and found["above_threshold"] == 2
    assert found["histogram"] == [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]
    assert found["mean"] == pytest.approx(0.5) and found["median"] == 0.5
    assert distribution([], 0.8) == {"queries": 0}
