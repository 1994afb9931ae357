from embedlab.chunking.sentences import sentence_spans


def pieces(text):
    return [text[s:e] for s, e in sentence_spans(text)]


def test_chinese_punctuation_ends_sentences_and_closers_stay():
    text = "他说：“你好！”真的吗？是的；好吧……然后呢。最后"
    assert pieces(text) == ["他说：“你好！”", "真的吗？", "是的；", "好吧……", "然后呢。", "最后"]


def test_no_split_inside_numbers_or_before_a_letter():
    text = "价格是3.14元，增长1.000.000倍。版本v2.1发布了. Next one"
    assert pieces(text) == ["价格是3.14元，增长1.000.000倍。", "版本v2.1发布了.", "Next one"]


def test_line_breaks_end_sentences_and_whitespace_is_left_out():
    text = "  第一行\n\n 第二行  "
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["第一行", "第二行"]


def test_a_range_of_the_text():
    text = "甲。乙。丙。"
    assert sentence_spans(text, 2, 6) == [(2, 4), (4, 6)]
