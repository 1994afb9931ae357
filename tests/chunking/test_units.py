import numpy as np

from embedlab.chunking.units import CharUnits, TokenUnits
from embedlab.demo import default_model


def test_char_units_count_and_ids():
    units = CharUnits()
    assert units.count("abcdef", 1, 4) == 3 and list(units.ids("abcdef", 1, 4)) == [1, 2, 3]


def test_token_units_offsets_are_characters_and_overlap_counts():
    units = TokenUnits.of_model(default_model())
    text = "价格是3.14元。Hello world"
    offsets = units.offsets(text)
    assert [text[s:e] for s, e in offsets] == ["价", "格", "是", "3", ".", "14", "元", "。", "hello", "world"] or \
        [text[s:e] for s, e in offsets][:8] == ["价", "格", "是", "3", ".", "14", "元", "。"]
    assert units.count(text) == len(offsets)
    # "4元" touches the token "14" and "元": both count
    at = text.index("4元")
    assert list(units.ids(text, at, at + 2)) == [5, 6]
    assert units.special_tokens == 2 and units.max_length == 256
    assert np.all(np.diff(offsets[:, 0]) >= 0)
