import numpy as np
import pytest

from embedlab.errors import UnknownNameError
from embedlab.synth.drafts import Draft
from embedlab.synth.filters import FILTERS, Checks, FilterSettings, apply_filters, near_duplicates, parse_filters
from embedlab.synth.passages import Passage

CORPUS = {"p": Passage("p", "Green tea is brewed at eighty degrees for two minutes."),
          "z": Passage("z", "绿茶用八十度的水冲泡两分钟。")}


def _drafts(*texts, passage="p"):
    return [Draft(text, passage, (passage,), "question") for text in texts]


def _steps(filtered):
    return {step.name: step for step in filtered.steps}


def test_each_filter_removes_what_it_names_and_counts_it():
    drafts = _drafts("how hot for green tea?", "?!", "x" * 30, "How hot for GREEN tea", "green tea eighty degrees",
                     "what temperature?") + _drafts("怎么泡绿茶？", "how is green tea made?", passage="z")
    settings = FilterSettings(on=FILTERS, max_chars=25, too_easy=0.8)
    out = apply_filters(drafts, CORPUS, settings, Checks(), written=True)
    steps = _steps(out)
    assert [s.name for s in out.steps] == ["empty", "length", "language", "duplicates", "too-easy", "round-trip"]
    assert {name: s.removed for name, s in steps.items()} == {"empty": 1, "length": 1, "language": 1,
                                                             "duplicates": 1, "too-easy": 1, "round-trip": 0}
    assert steps["duplicates"].examples[0]["same_as"] == "how hot for green tea?"
    assert steps["language"].examples[0] == {"query": "how is green tea made?", "passage": "z", "filter": "language",
                                             "expected": "zh", "found": "en"}
    assert steps["too-easy"].examples[0]["query"] == "green tea eighty degrees"
    assert [d.text for d in out.kept] == ["how hot for green tea?", "what temperature?", "怎么泡绿茶？"]
    assert len(out.removed) == 5 and {r["filter"] for r in out.removed} == set(steps) - {"round-trip"}
    assert out.too_easy["queries"] == 4 and out.too_easy["above_threshold"] == 1  # measured before it removes


def test_filters_switch_off_and_the_distribution_is_reported_anyway():
    drafts = _drafts("green tea eighty degrees", "green tea eighty degrees", "y" * 300)
    out = apply_filters(drafts, CORPUS, FilterSettings(on=()), Checks(), written=True)
    assert len(out.kept) == 3 and not out.removed
    assert out.too_easy["above_threshold"] == 2 and all(not s.on for s in out.steps if s.name != "empty")


def test_the_language_filter_leaves_the_passages_own_text_alone():
    out = apply_filters(_drafts("how is green tea made?", passage="z"), CORPUS, FilterSettings(), Checks(),
                        written=False)
    assert len(out.kept) == 1 and _steps(out)["language"].detail["not_applied"]
    forced = apply_filters(_drafts("怎么泡绿茶？"), CORPUS, FilterSettings(language="zh"), Checks(), written=True)
    assert len(forced.kept) == 1  # --language zh: a Chinese query for an English passage is what was asked


def test_near_duplicates_by_cosine_are_greedy_and_in_order():
    vectors = np.array([[1, 0], [0.999, 0.045], [0, 1], [0.7, 0.714], [0.05, 0.999]], dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert near_duplicates(vectors, 0.99) == {1: (0, pytest.approx(vectors[0] @ vectors[1])),
                                               4: (2, pytest.approx(vectors[2] @ vectors[4]))}
    assert near_duplicates(vectors, 0.99, block=2) == near_duplicates(vectors, 0.99)
    drafts = _drafts("a tea?", "b tea?", "c tea?", "d tea?", "e tea?")
    out = apply_filters(drafts, CORPUS, FilterSettings(on=("duplicates",)), Checks(embed=lambda t: (vectors, "")),
                        written=True)
    assert [d.text for d in out.kept] == ["a tea?", "c tea?", "d tea?"] and _steps(out)["duplicates"].removed == 2
    without = apply_filters(drafts, CORPUS, FilterSettings(on=("duplicates",)), Checks(), written=True)
    assert len(without.kept) == 5 and _steps(without)["duplicates"].detail["not_by_cosine"] == "no embedding model"


def test_the_round_trip_keeps_a_query_any_retriever_finds():
    drafts = _drafts("one", "two", "three")
    hits = {"bm25": np.array([True, False, False]), "dense": np.array([False, True, False])}
    seen = []

    def round_trip(given, corpus, k):
        seen.append((len(given), k))
        return hits
    out = apply_filters(drafts, CORPUS, FilterSettings(on=("round-trip",), round_trip_k=7),
                        Checks(round_trip=round_trip), written=True)
    assert [d.text for d in out.kept] == ["one", "two"] and seen == [(3, 7)]
    step = _steps(out)["round-trip"]
    assert step.removed == 1 and step.detail == {"k": 7, "found_by": {"bm25": 1, "dense": 1}}


def test_filter_names():
    assert parse_filters("all") == FILTERS and parse_filters("none") == ()
    assert parse_filters("length, round-trip") == ("length", "round-trip")
    with pytest.raises(UnknownNameError, match="did you mean 'round-trip'"):
        parse_filters("roundtrip")
