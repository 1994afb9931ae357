from embedlab.synth.ict import ict
from embedlab.synth.passages import Passage

CORPUS = [
    Passage("a", "Green tea is brewed at eighty degrees. It should steep for two minutes. Milk is never added."),
    Passage("b", "黑豹队的防守只丢了三百零八分。职业碗防守截锋以十一分领先于全队。他的队友贡献了六次擒杀。", "Super Bowl"),
    Passage("c", "A single sentence that cannot lose itself."),
    Passage("d", "Yes. No. Maybe so."),
]


def test_a_sentence_is_the_query_and_its_passage_without_it_the_document():
    made = ict(CORPUS, CORPUS, per_passage=1, seed=0)
    assert [d.passage for d in made.drafts] == ["a", "b"]
    assert made.skipped == {"a single sentence": 1, "no sentence long enough": 1}
    for draft in made.drafts:
        original = next(p for p in CORPUS if p.id == draft.passage)
        document = made.corpus[draft.passage]
        assert draft.text in original.text and draft.text not in document.text
        assert draft.positives == (draft.passage,) and document.title == original.title
        assert len(document.text) < len(original.text) and "  " not in document.text
    assert made.corpus["c"] == CORPUS[2]  # untouched passages stay in the corpus as they are


def test_several_queries_keep_one_sentence_and_the_seed_decides_which():
    made = ict(CORPUS[:1], CORPUS[:1], per_passage=5, seed=0)
    assert len(made.drafts) == 2  # three sentences: two queries, one sentence left as the document
    chosen = {seed: [d.text for d in ict(CORPUS[:1], CORPUS[:1], 1, seed).drafts][0] for seed in range(8)}
    assert len(set(chosen.values())) > 1
    assert ict(CORPUS, CORPUS, 1, 3).drafts == ict(CORPUS, CORPUS, 1, 3).drafts
    # a passage gets the same query whatever the sample
    assert ict(CORPUS, CORPUS[1:2], 1, 3).drafts[0] == ict(CORPUS, CORPUS, 1, 3).drafts[1]
