import math

from embedlab.models.bm25_tokenizers import tokenizer
from embedlab.synth.keywords import keyword_queries, surfaces
from embedlab.synth.passages import Passage

CORPUS = [
    Passage("a", "Brewing green tea: the water for green tea should be at eighty degrees."),
    Passage("b", "Black tea needs boiling water and steeps for four minutes."),
    Passage("c", "Coffee beans are roasted before they are ground."),
    Passage("z", "黑豹队的防守只丢了三百分，黑豹队的四分卫被擒杀。职业碗防守截锋卡万·肖特领先于全队，同时还有三次迫使掉球。"),
]


def _weight(term, doc, tokens):
    """A term's BM25 weight in a document by hand: Lucene idf x saturated tf, k1 1.5, b 0.75 (bm25s' defaults)."""
    average = sum(map(len, tokens)) / len(tokens)
    tf, df = tokens[doc].count(term), sum(term in t for t in tokens)
    return math.log(1 + (len(tokens) - df + 0.5) / (df + 0.5)) * tf * 2.5 / (
        tf + 1.5 * (0.25 + 0.75 * len(tokens[doc]) / average))


def test_the_most_salient_terms_by_bm25_weight_in_the_passage_order():
    tokenize = tokenizer("word")
    tokens = [tokenize(p.content) for p in CORPUS]
    shown = surfaces(CORPUS[0].content, tokenize)
    top = sorted(set(tokens[0]), key=lambda t: (-_weight(t, 0, tokens), shown[t][0]))[:3]
    (draft,) = keyword_queries(CORPUS, CORPUS[:1], per_passage=1).drafts
    assert draft.text.split() == [shown[t][1] for t in sorted(top, key=lambda t: shown[t][0])]
    assert "green" in draft.text.split()  # twice in a and nowhere else: the most salient
    assert "tea" not in draft.text.split() and "water" not in draft.text.split()  # in a and b: less salient
    assert draft.positives == ("a",) and draft.style == "keywords"


def test_chinese_keywords_are_jieba_words_and_a_second_query_takes_the_next_terms():
    made = keyword_queries(CORPUS, CORPUS[3:], per_passage=2)
    assert len(made.drafts) == 2
    first, second = (d.text.split() for d in made.drafts)
    assert "黑豹" in first and not set(first) & set(second)
    assert all(len(word) > 1 and word in CORPUS[3].text for word in first + second)
    assert keyword_queries(CORPUS, CORPUS, 1).drafts == keyword_queries(CORPUS, CORPUS, 1).drafts  # deterministic


def test_surfaces_show_words_as_written():
    found = surfaces("Steeping teas STEEPS 黑豹队的防守", tokenizer("word"))
    assert found["steep"] == (0, "Steeping") and found["tea"] == (9, "teas")
    assert found["黑豹"] == (21, "黑豹") and found["防守"] == (25, "防守")
